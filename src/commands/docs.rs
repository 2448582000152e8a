//! Commands that only print: shell completions, the man page, and the tool
//! catalogue the MCPB bundle's manifest is generated from.

use std::io::Write;
use std::process::ExitCode;

use bigin_mcp::cli::CompletionsArgs;
use bigin_mcp::mcp::{ToolFilter, definitions};

/// `bigin-mcp completions SHELL`: the script on stdout.
pub fn completions(args: CompletionsArgs) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let script = completion_script(args.shell);
    finish(out.write_all(script.as_bytes()).and_then(|()| out.flush()))
}

/// The completion script for `shell`.
///
/// clap_complete 4.6's bash script names its `case` arms after the bin
/// name with `-` turned into `__subcmd__` (`bigin__subcmd__mcp__subcmd__serve`)
/// while its word loop sets `cmd` with `-` turned into `__`
/// (`bigin__mcp__subcmd__serve`), so nothing after the first word ever
/// completed. The arms are renamed to what the loop sets.
pub fn completion_script(shell: clap_complete::Shell) -> String {
    const BIN: &str = "bigin-mcp";
    let mut cmd = bigin_mcp::cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
    let script = String::from_utf8_lossy(&buf).into_owned();
    if shell == clap_complete::Shell::Bash {
        script.replace(&BIN.replace('-', "__subcmd__"), &BIN.replace('-', "__"))
    } else {
        script
    }
}

/// `bigin-mcp man`: roff on stdout, every subcommand's flags included.
pub fn man() -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = super::man::render(&mut out);
    finish(written.and_then(|()| out.flush()))
}

/// A closed pipe (`| head`) is not worth an error message; anything else is.
fn finish(r: std::io::Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bigin-mcp: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `bigin-mcp tools --json`: every tool the server can expose (delete
/// included), as `[{"name", "description"}]`, read from the definitions the
/// server lists (`tools/list`) so the bundle's manifest cannot drift from the binary.
#[allow(clippy::print_stdout)] // This command's output is the JSON.
pub fn tools() -> anyhow::Result<ExitCode> {
    let all = ToolFilter {
        allow_delete: true,
        ..Default::default()
    };
    let tools: Vec<serde_json::Value> = definitions(&all)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|t| {
            serde_json::json!({
                "name": t.name,
                "description": t.description.as_deref().unwrap_or_default(),
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&tools)?);
    Ok(ExitCode::SUCCESS)
}
