//! bigin-mcp: a local MCP server that administers a Zoho Bigin organisation.
//!
//! Layers, from the outside in (each depends only on the ones below it):
//!
//! - `commands` (in the binary's `main.rs` plus [`cli`]): parse flags, wire things
//!   together, own `anyhow` and exit codes. Nothing below uses clap or anyhow.
//! - [`mcp`]: the MCP tool surface: tool definitions, filters (read-only,
//!   toolsets, ...), write guards and the audit log. It talks to Zoho only
//!   through [`zoho::BiginClient`].
//! - [`doctor`]: `bigin-mcp doctor`'s read-only probes of the assumptions
//!   about Zoho, through [`zoho::BiginClient`] only.
//! - [`zoho`]: the HTTP client for Bigin v2 and the Zoho accounts token
//!   endpoint: data centres, id validation, retries, error mapping. It knows
//!   nothing about MCP; it gets access tokens from a [`zoho::TokenSource`].
//! - [`sandbox`]: a real HTTP server on 127.0.0.1 that behaves like Bigin v2
//!   and the accounts server, over a seeded organisation. It backs `--demo`
//!   and the test suite.
//!
//! House rules: in `serve`, stdout carries JSON-RPC only, so the library never
//! prints to stdout (enforced below) and logs go to stderr through `tracing`.
//! Secrets (tokens, client secret) live in `secrecy::SecretString` and never
//! reach logs, errors, tool output or `Debug`.
#![deny(clippy::print_stdout)]

pub mod auth;
pub mod cli;
pub mod clients;
pub mod doctor;
pub mod mcp;
pub mod sandbox;
pub mod zoho;
