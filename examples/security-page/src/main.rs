//! `cargo run -p security-page`: serves the demo and prints its address and accounts.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// auth-tracker demo: a "where you're signed in" page and JSON API.
#[derive(Debug, Parser)]
struct Options {
    /// Address to listen on, as IP:PORT.
    #[arg(long, env = "ADDR", default_value = "127.0.0.1:3000")]
    addr: String,

    /// SQLite file path or PostgreSQL URL of the logins database.
    #[arg(long, env = "DATABASE_URL", default_value = security_page::DEFAULT_DATABASE_URL)]
    database_url: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let options = Options::parse();

    let router = match security_page::build(&options.database_url).await {
        Ok(router) => router,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&options.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "error: cannot listen on {}: {error}; set ADDR or --addr to a free address",
                options.addr
            );
            return ExitCode::FAILURE;
        }
    };
    let address = listener
        .local_addr()
        .map_or_else(|_| options.addr.clone(), |address| address.to_string());

    println!("security-page listening on http://{address}/login");
    println!("demo accounts:");
    for (email, password) in security_page::DEMO_ACCOUNTS {
        println!("  {email} / {password}");
    }
    tracing::info!(%address, "started");

    if let Err(error) = security_page::serve(listener, router).await {
        eprintln!("error: server stopped: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
