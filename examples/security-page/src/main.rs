//! `cargo run -p security-page`: serves the demo and prints its address and accounts.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc as the global allocator, because glibc's malloc keeps the freed 19 MiB
/// Argon2 blocks of the blocking threads resident. After 17,660 sign-ins the demo held
/// 939 MiB with glibc and 456 MiB with mimalloc (BENCHMARKS.md, "Resident memory of the
/// demo").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// auth-tracker demo: a "where you're signed in" page and JSON API.
#[derive(Debug, Parser)]
struct Options {
    /// Address to listen on, as IP:PORT.
    #[arg(long, env = "ADDR", default_value = "127.0.0.1:3000")]
    addr: String,

    /// SQLite file path, PostgreSQL URL or MySQL/MariaDB URL of the logins database.
    #[arg(long, env = "DATABASE_URL", default_value = security_page::DEFAULT_DATABASE_URL)]
    database_url: String,

    /// Comma-separated CIDR blocks of proxies whose X-Forwarded-For headers are
    /// believed, such as `127.0.0.1/32,10.0.0.0/8`. Default: none, so the socket peer is
    /// the client.
    #[arg(long, env = "TRUSTED_PROXIES", value_parser = parse_proxies, default_value = "")]
    trusted_proxies: Proxies,

    /// MaxMind-format `.mmdb` file (GeoLite2, GeoIP2, DB-IP, IPinfo) to geolocate
    /// logins with. Takes precedence over --ip-api-url.
    #[arg(long, env = "GEOIP_MMDB")]
    geoip_mmdb: Option<std::path::PathBuf>,

    /// Base URL of an ip-api compatible service (`{url}/json/{ip}`) to geolocate logins
    /// with. It receives each public client address.
    #[arg(long, env = "IP_API_URL")]
    ip_api_url: Option<String>,
}

/// Trusted proxy blocks, wrapped so clap treats the list as one value.
#[derive(Debug, Clone)]
struct Proxies(Vec<security_page::IpNet>);

fn parse_proxies(list: &str) -> Result<Proxies, String> {
    security_page::parse_trusted_proxies(list)
        .map(Proxies)
        .map_err(|error| error.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let options = Options::parse();

    let mut settings = security_page::Settings::new(&options.database_url);
    settings.trusted_proxies = options.trusted_proxies.0.clone();
    settings.geoip_mmdb = options.geoip_mmdb.clone();
    settings.ip_api_url = options.ip_api_url.clone();
    let geolocation = match (&settings.geoip_mmdb, &settings.ip_api_url) {
        (Some(path), _) => format!("MaxMind file {}", path.display()),
        (None, Some(url)) => format!("ip-api at {url}"),
        (None, None) => "off".to_owned(),
    };

    let router = match security_page::build_with(settings).await {
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
    println!("geolocation: {geolocation}");
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
