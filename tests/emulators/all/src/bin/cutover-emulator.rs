//! `cutover-emulator`: serves one vendor API emulator until Ctrl-C.
//! Only argument parsing and printing live here; the emulators are the
//! vendor crates behind the `cutover_emulators` facade.

use std::process::ExitCode;

use clap::Parser;
use cutover_emulators::{Emulator, EmulatorConfig, FaultConfig, KlaviyoRateLimit, Platform};

/// The platforms the binary serves: the facade's [`Platform`]s, and
/// impact.com, which the facade starts on its own entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Served {
    /// Mailchimp Marketing API 3.0 under `/3.0/`.
    Mailchimp,
    /// Klaviyo's dated-revision API under `/api/`.
    Klaviyo,
    /// impact.com's Brand API under `/Advertisers/{AccountSID}/`.
    Impact,
}

/// Serve a seeded emulator of a vendor API on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "cutover-emulator", version)]
struct Arguments {
    /// Platform to emulate.
    #[arg(value_enum)]
    platform: Served,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed for the data and the random faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Members (Mailchimp), profiles (Klaviyo) or actions and clicks
    /// (impact.com) to seed.
    #[arg(long, default_value_t = 1000)]
    records: usize,
    /// Rate limit R: Mailchimp allows R simultaneous connections; Klaviyo
    /// allows R requests per second and 60·R per minute on every endpoint;
    /// impact.com allows R requests per hour.
    /// Default: the documented limits.
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Fraction of requests answered 429.
    #[arg(long, default_value_t = 0.0)]
    fault_429: f64,
    /// Fraction of requests answered 500/503.
    #[arg(long, default_value_t = 0.0)]
    fault_5xx: f64,
    /// Milliseconds added to every request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fraction of requests whose connection is closed without an answer.
    #[arg(long, default_value_t = 0.0)]
    fault_drop: f64,
    /// The next N requests are answered 429 (a storm).
    #[arg(long, default_value_t = 0)]
    burst_429: u32,
    /// Page K (0-based) of every collection fails once with a 500.
    #[arg(long)]
    fail_page_once: Option<u64>,
    /// Fraction of seeded addresses that are invalid.
    #[arg(long, default_value_t = 0.01)]
    invalid_emails: f64,
    /// impact.com only: serve at most N items a page whatever `PageSize`
    /// asks, so a small data set spans pages.
    #[arg(long)]
    page_size_cap: Option<usize>,
    /// impact.com only: programs (campaigns) to seed, 1 to 3.
    #[arg(long, default_value_t = 3)]
    programs: usize,
}

fn config(arguments: &Arguments) -> EmulatorConfig {
    let mut config = EmulatorConfig::new(arguments.seed, arguments.records);
    config.port = arguments.port;
    config.invalid_email_fraction = arguments.invalid_emails;
    if let Some(rate) = arguments.rate_limit {
        config.mailchimp_max_connections = rate as usize;
        config.klaviyo_rate_limit =
            Some(KlaviyoRateLimit { burst_per_second: rate, steady_per_minute: rate.saturating_mul(60) });
    }
    config.faults = FaultConfig {
        rate_429: arguments.fault_429,
        rate_5xx: arguments.fault_5xx,
        latency_ms: arguments.latency_ms,
        drop_rate: arguments.fault_drop,
        burst_429: arguments.burst_429,
        fail_page_once: arguments.fail_page_once,
        ..FaultConfig::default()
    };
    config
}

#[tokio::main]
async fn main() -> ExitCode {
    let arguments = Arguments::parse();
    let platform = match arguments.platform {
        Served::Mailchimp => Platform::Mailchimp,
        Served::Klaviyo => Platform::Klaviyo,
        Served::Impact => return serve_impact(&arguments).await,
    };
    let emulator = match Emulator::start(platform, config(&arguments)).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let api_root = format!("{}{}", emulator.base_url, platform.api_root());
    #[expect(clippy::print_stdout, reason = "the binary's result is where to connect")]
    {
        println!("base_url={}", emulator.base_url);
        println!("api_root={api_root}");
        println!("api_key={}", emulator.api_key);
        println!("faults={}/__emulator/faults", emulator.base_url);
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {error}");
    }
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

/// impact.com: `api_root` is the account's root
/// (`/Advertisers/{AccountSID}`), `api_key` the Auth Token, and two more
/// lines before `faults` give the Account SID (the Basic user name) and a
/// read-only token.
async fn serve_impact(arguments: &Arguments) -> ExitCode {
    let rate = arguments.rate_limit;
    let cap = arguments.page_size_cap;
    let programs = arguments.programs;
    let emulator = match Emulator::start_impact(config(arguments), |impact| {
        if let Some(rate) = rate {
            impact.requests_per_hour = rate;
        }
        impact.page_size_cap = cap;
        impact.programs = programs;
    })
    .await
    {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let state = emulator.state();
    #[expect(clippy::print_stdout, reason = "the binary's result is where to connect")]
    {
        println!("base_url={}", emulator.base_url);
        println!("api_root={}", state.api_root(&emulator.base_url));
        println!("api_key={}", emulator.api_key);
        println!("account_sid={}", state.account_sid);
        println!("read_only_token={}", state.read_only_token);
        println!("faults={}/__emulator/faults", emulator.base_url);
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {error}");
    }
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
