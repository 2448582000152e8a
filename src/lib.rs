//! bigin-mcp: a local MCP server that administers a Zoho Bigin organisation.
//!
//! Layers, from the outside in (each depends only on the ones below it):
//!
//! - `commands` (in the binary's `main.rs` plus [`cli`]): parse flags, wire things
//!   together, own `anyhow` and exit codes. Nothing below uses clap or anyhow.
//! - [`transport`]: the line-delimited JSON-RPC transport `serve` runs the
//!   MCP handler over (stdin/stdout), with the session rules rmcp leaves to it.
//! - [`mcp`]: the MCP surface: the handler, the tools as thin methods over
//!   [`admin`]'s services, the catalogue and start-up filters (read-only,
//!   toolsets, ...; each tool's Zoho scopes), views, schemas and prompts.
//! - [`admin`]: what an administrator can do to one organisation, without
//!   MCP: the session (client plus cache), the write guard (confirmation
//!   through a small `Confirm` trait, audit log), the access review with its
//!   snapshots and reports. The CLI's `review` uses it directly. It imports
//!   nothing of `mcp`.
//! - [`clients`]: the MCP clients' config files `install` edits.
//! - [`auth`]: login (OAuth with PKCE on a loopback callback), the keychain
//!   and the account file; it hands [`zoho`] a token source.
//! - [`doctor`]: `bigin-mcp doctor`'s read-only probes of the assumptions
//!   about Zoho, through [`zoho::BiginClient`] only.
//! - [`zoho`]: the HTTP client for Bigin v2 and the Zoho accounts token
//!   endpoint: data centres, id validation, retries, error mapping. It knows
//!   nothing about MCP; it gets access tokens from a [`zoho::TokenSource`].
//! - [`fsx`] (beside them all): the one file writer (temp file, fsync,
//!   rename; never over a non-regular file) and the cross-process lock that
//!   every file this program changes goes through.
//! - [`sandbox`]: a real HTTP server on 127.0.0.1 that behaves like Bigin v2
//!   and the accounts server, over a seeded organisation. It backs `--demo`
//!   and the test suite.
//!
//! House rules: in `serve`, stdout carries JSON-RPC only, so the library never
//! prints to stdout (enforced below) and logs go to stderr through `tracing`.
//! Secrets (tokens, client secret) live in `secrecy::SecretString` and never
//! reach logs, errors, tool output or `Debug`.
#![deny(clippy::print_stdout)]

pub mod admin;
pub mod auth;
pub mod cli;
pub mod clients;
pub mod doctor;
pub mod fsx;
pub mod mcp;
pub mod sandbox;
pub mod transport;
pub mod zoho;
