//! `auth-tracker parse-ua`.

use std::io::{self, BufRead, BufWriter, Write};

use auth_tracker::UserAgentParser;
use clap::Args;
use serde_json::json;

use crate::{CliError, CliResult};

#[derive(Debug, Args)]
#[command(
    after_help = "Every input line gives one output line, so output line N belongs to \
input line N. An empty line gives an object with every parsed field null. Bytes that are \
not UTF-8 are replaced with U+FFFD, and only the first 512 bytes of a User-Agent are parsed."
)]
pub(crate) struct ParseUaArgs {
    /// User-Agent strings to parse. Without any, one User-Agent per line is read from
    /// standard input.
    #[arg(value_name = "USER_AGENT")]
    user_agents: Vec<String>,
}

pub(crate) fn run(args: &ParseUaArgs) -> CliResult {
    let stdout = io::stdout();
    let mut output = BufWriter::new(stdout.lock());

    if !args.user_agents.is_empty() {
        for user_agent in &args.user_agents {
            write_parsed(&mut output, user_agent)?;
        }
        return flush(&mut output);
    }

    let mut input = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|error| CliError::new(format!("failed to read standard input: {error}")))?;
        if read == 0 {
            break;
        }
        let text = String::from_utf8_lossy(strip_line_ending(&line));
        write_parsed(&mut output, &text)?;
    }
    flush(&mut output)
}

fn strip_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn write_parsed(output: &mut impl Write, user_agent: &str) -> CliResult {
    let parsed = auth_tracker::agent::uaparser::shared().parse(user_agent);
    let object = json!({
        "user_agent": user_agent,
        "browser": parsed.browser,
        "browser_version": parsed.browser_version,
        "platform": parsed.platform,
        "platform_version": parsed.platform_version,
        "device": parsed.device,
        "device_type": parsed.device_type,
    });
    writeln!(output, "{object}").map_err(write_error)
}

fn flush(output: &mut impl Write) -> CliResult {
    output.flush().map_err(write_error)
}

fn write_error(error: io::Error) -> CliError {
    CliError::new(format!("failed to write to standard output: {error}"))
}
