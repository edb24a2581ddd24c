//! `cutover redirects export` and `serve`, as an operator runs them: an old
//! platform's tracking links (a CSV export) are migrated into an archive,
//! the "new platform" gives each link a new URL, the map is exported as CSV
//! and nginx `map`, and the redirect server answers every old link with its
//! new one, sub-ids carried, sends unknown links to the fallback, refuses an
//! open redirect, counts on `/metrics`, and reloads the map on SIGHUP.

use cutover_e2e::{Workspace, run};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

const FALLBACK: &str = "https://shop.example.com/partners";

/// The old links: (id, URL, partner). The new platform's URL is
/// `https://brand.sjv.io/c/100/<number>`.
fn old_links() -> Vec<(String, String, String)> {
    let mut links: Vec<(String, String, String)> = (1..=20)
        .map(|number| {
            (format!("L-{number}"), format!("https://go.example.com/r/{number}"), format!("A-{}", number % 4))
        })
        .collect();
    links.push(("L-21".into(), "https://trk.example.com/click?o=7&a=42".into(), "42".into()));
    links.push(("L-22".into(), "https://trk.example.com/click?a=43&o=7".into(), "43".into()));
    links.push(("L-23".into(), "https://go.example.com/r/café".into(), "A-1".into()));
    links
}

fn new_url(id: &str) -> String {
    format!("https://brand.sjv.io/c/100/{}", id.trim_start_matches("L-"))
}

fn config(streams: &str) -> String {
    format!(
        r#"[source]
plugin = "csv"

[source.config]
folder = "export"
platform = "old-affiliate"

[source.config.streams.links]
file = "links.csv"
columns = {{ "Link ID" = "source_id", "Affiliate ID" = "partner", "URL" = "url" }}

[source.config.streams.partners]
file = "partners.csv"
columns = {{ "Affiliate ID" = "source_id" }}

[destination]
plugin = "sqlite-archive"
config = {{ path = "out/new-platform.db" }}

{streams}

[redirects]
fallback = "{FALLBACK}"
preset = "scaleo-to-impact"

[[redirects.params]]
from = "utm_campaign"
to = "utm_campaign"
"#
    )
}

/// A workspace with the old platform's export and a config moving `streams`.
fn sample(streams: &str) -> (Workspace, std::path::PathBuf) {
    let workspace = Workspace::new();
    let mut csv = String::from("Link ID,Affiliate ID,URL\n");
    for (id, url, partner) in old_links() {
        csv.push_str(&format!("{id},{partner},{url}\n"));
    }
    csv.push_str("L-24,A-1,\n");
    workspace.write("export/links.csv", csv);
    workspace.write("export/partners.csv", "Affiliate ID\nA-0\nA-1\n");
    let config = workspace.write("cutover.toml", config(streams));
    (workspace, config)
}

const LINK_STREAM: &str = "[[streams]]\nsource = \"links\"\ndestination = \"tracking_link\"\n";

/// One answer over raw HTTP/1.1: status and headers (names lowercased), body.
fn request(address: &str, raw: &str) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(address).expect("connect to the server");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
    stream.write_all(raw.as_bytes()).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|line| line.split(' ').nth(1)).and_then(|code| code.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn get(address: &str, host: &str, target: &str) -> (u16, String) {
    let (status, headers, _) =
        request(address, &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));
    let location = headers.into_iter().find(|(name, _)| name == "location").map(|(_, value)| value).unwrap_or_default();
    (status, location)
}

/// The path and query of an old link, and its host.
fn split(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(host, path)| (host, path));
    (host.to_owned(), format!("/{path}"))
}

/// A running `cutover redirects serve`, stopped (SIGTERM) on drop.
struct Server {
    child: std::process::Child,
    address: String,
}

impl Server {
    fn start(workspace: &Workspace, config: &Path) -> Server {
        let mut child = workspace
            .cutover()
            .args(["redirects", "serve"])
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .env("CUTOVER_LOG", "debug")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("cutover starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("its stdout");
        BufReader::new(stdout).read_line(&mut line).expect("its first line");
        let address = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}")).to_owned();
        Server { child, address }
    }

    fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) with our own child's pid and a valid signal number.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(result, 0, "kill({pid}, {signal})");
    }

    /// Stops the server with SIGTERM; its exit status and stderr.
    fn stop(mut self) -> (Option<i32>, String) {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        (status.code(), stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The new platform gives every link its own URL (the archive holds the
/// old ones as copied).
fn new_platform_assigns_urls(workspace: &Workspace) {
    let connection = rusqlite::Connection::open(workspace.path().join("out/new-platform.db")).expect("the archive");
    connection
        .execute("UPDATE tracking_link SET url = 'https://brand.sjv.io/c/100/' || substr(source_id, 3)", [])
        .expect("new URLs");
}

#[test]
fn every_old_link_is_redirected_with_its_sub_ids_and_the_map_reloads() {
    let (workspace, _) = sample(LINK_STREAM);
    let (output, stdout, stderr) = run(workspace.cutover().arg("migrate").arg("cutover.toml"));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");

    // Before the new platform has its own URLs, every link would redirect to itself.
    let (output, stdout, stderr) = run(workspace.cutover().args(["redirects", "export"]).arg("cutover.toml"));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("error: no link to map: 24 old links read"), "{stderr}");
    assert!(stderr.contains("23 links whose new link is the old link (a redirect loop)"), "{stderr}");
    assert!(!workspace.path().join("cutover.redirects.csv").exists());

    new_platform_assigns_urls(&workspace);
    let (output, stdout, stderr) = run(workspace.cutover().args(["redirects", "export"]).arg("cutover.toml"));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.trim(), "wrote 23 of 24 old links to cutover.redirects.csv and cutover.redirects.nginx.conf");
    assert!(stderr.contains("warning: left out 1 link with no URL on the old platform: L-24"), "{stderr}");

    // The CSV: one row per link, old → new, with partner and both ids.
    let csv_path = workspace.path().join("cutover.redirects.csv");
    let csv = std::fs::read_to_string(&csv_path).expect("the CSV map");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("old_url,new_url,partner,source_id,target_id"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 23);
    for (id, url, partner) in old_links() {
        let row = format!("{url},{},{partner},{id},old-affiliate:{id}", new_url(&id));
        assert!(rows.contains(&row.as_str()), "no row {row} in\n{csv}");
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&csv_path).expect("its mode").permissions().mode() & 0o777, 0o600);

    // The nginx map: exact keys on $host$uri, lookaheads for the query-named links.
    let nginx = std::fs::read_to_string(workspace.path().join("cutover.redirects.nginx.conf")).expect("the nginx map");
    assert!(nginx.contains("map $host$uri $cutover_redirect {"), "{nginx}");
    assert!(nginx.contains("    \"go.example.com/r/7\" \"https://brand.sjv.io/c/100/7\";\n"), "{nginx}");
    assert!(nginx.contains("    \"go.example.com/r/café\" \"https://brand.sjv.io/c/100/23\";\n"), "{nginx}");
    assert!(nginx.contains("map \"$host$uri?$args\" $cutover_redirect_query {"), "{nginx}");
    assert!(
        nginx.contains("(?=(?:.*&)?a=42(?:&|$))(?=(?:.*&)?o=7(?:&|$))\" \"https://brand.sjv.io/c/100/21\";"),
        "{nginx}"
    );
    assert!(nginx.contains(&format!("#     return 302 \"{FALLBACK}\";")), "{nginx}");

    let server = Server::start(&workspace, Path::new("cutover.toml"));
    let address = server.address.clone();
    // Every old link, with the partner's sub-ids and things that must not travel.
    for (id, url, _) in old_links() {
        let (host, target) = split(&url);
        let separator = if target.contains('?') { '&' } else { '?' };
        let target = format!(
            "{target}{separator}sub_id1=spring&email=secret%40example.org&aff_click_id=c-{id}&utm_campaign=x+y"
        );
        let (status, location) = get(&address, &host, &target.replace("é", "%C3%A9"));
        let expected = format!("{}?utm_campaign=x%20y&sharedid=c-{id}&subId1=spring", new_url(&id));
        assert_eq!((status, location.as_str()), (301, expected.as_str()), "{url}");
        // And bare.
        let (host, target) = split(&url);
        let (status, location) = get(&address, &host, &target.replace("é", "%C3%A9"));
        assert_eq!((status, location), (301, new_url(&id)), "{url}");
    }
    // Unknown links: the fallback, without their query.
    for (host, target) in [
        ("go.example.com", "/r/999?sub_id1=x"),
        ("trk.example.com", "/click?o=7&a=44"),
        ("unknown.example.com", "/r/1"),
        ("go.example.com", "/r/24"),
    ] {
        assert_eq!(get(&address, host, target), (302, FALLBACK.to_owned()), "{host}{target}");
    }
    // Open-redirect attempts get the fallback, or a map target, never elsewhere.
    for (host, target) in [
        ("go.example.com", "//evil.example/r/1"),
        ("go.example.com", "/\\evil.example"),
        ("go.example.com", "/%2F%2Fevil.example"),
        ("evil.example", "/r/1"),
        ("go.example.com", "http://evil.example/r/1"),
        ("go.example.com", "/r/1?redirect=https://evil.example&url=%2F%2Fevil.example"),
    ] {
        let (status, location) = get(&address, host, target);
        assert!(location == FALLBACK || location == new_url("L-1"), "{host} {target} → {status} {location}");
    }

    // Metrics: hits by partner, misses, links.
    let (status, _, metrics) =
        request(&address, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 200);
    // 23 links × 2, and /r/1 once more from the last attempt.
    for line in [
        "cutover_redirects_hits_total 47",
        "cutover_redirects_partner_hits_total{partner=\"42\"} 2",
        "cutover_redirects_partner_hits_total{partner=\"A-1\"} 13",
        "cutover_redirects_misses_total 9",
        "cutover_redirects_links 23",
    ] {
        assert!(metrics.lines().any(|candidate| candidate == line), "no {line:?} in\n{metrics}");
    }

    // A new map on disk and SIGHUP: the server answers from it, without a restart.
    let changed = csv.replace("https://brand.sjv.io/c/100/1,", "https://brand.sjv.io/c/200/1,");
    assert_ne!(changed, csv);
    std::fs::write(&csv_path, changed).expect("a new map");
    server.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, location) = get(&address, "go.example.com", "/r/1");
        if location == "https://brand.sjv.io/c/200/1" {
            break;
        }
        assert!(Instant::now() < deadline, "the map was not reloaded: {location}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get(&address, "go.example.com", "/r/2"), (301, new_url("L-2")));
    // A broken map is refused, and the one in use stays.
    std::fs::write(&csv_path, "old_url,new_url\nhttps://go.example.com/r/1,javascript:alert(1)\n").expect("a bad map");
    server.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, metrics) =
            request(&address, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        if metrics.contains("cutover_redirects_reloads_total{result=\"failed\"} 1") {
            break;
        }
        assert!(Instant::now() < deadline, "the bad map was not tried:\n{metrics}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get(&address, "go.example.com", "/r/1"), (301, "https://brand.sjv.io/c/200/1".to_owned()));

    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("serving 23 links from cutover.redirects.csv"), "{stderr}");
    assert!(stderr.contains("reloaded 23 links from cutover.redirects.csv"), "{stderr}");
    assert!(stderr.contains("error: reloading the map failed, the map in use stays"), "{stderr}");
    // Query strings hold personal data: none is logged, even at debug.
    assert!(!stderr.contains("secret"), "{stderr}");
    assert!(!stderr.contains("spring"), "{stderr}");
}

#[test]
fn the_verbs_say_what_is_missing() {
    // No tracking-link stream in the config.
    let (workspace, _) = sample("[[streams]]\nsource = \"partners\"\ndestination = \"partner\"\n");
    let (output, _, stderr) = run(workspace.cutover().args(["redirects", "export"]).arg("cutover.toml"));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cutover.toml moves no tracking-link stream, so there is no link to map (its streams: partners (partner))"),
        "{stderr}"
    );
    assert!(stderr.contains("help: add the tracking links to the config's `[[streams]]`"), "{stderr}");

    // No migration yet.
    let (workspace, config) = sample(LINK_STREAM);
    let (output, _, stderr) = run(workspace.cutover().args(["redirects", "export"]).arg("cutover.toml"));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: no migration has run for cutover.toml"), "{stderr}");
    assert!(stderr.contains("help: run `cutover migrate cutover.toml` first"), "{stderr}");

    // No map to serve yet.
    let (output, stdout, stderr) =
        run(workspace.cutover().args(["redirects", "serve"]).arg("cutover.toml").args(["--listen", "127.0.0.1:0"]));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("error: there is no map at cutover.redirects.csv"), "{stderr}");
    assert!(stderr.contains("help: run `cutover redirects export cutover.toml` first"), "{stderr}");

    // A missing config.
    let (output, _, stderr) =
        run(workspace.cutover().args(["redirects", "serve", "nope.toml", "--listen", "127.0.0.1:0"]));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: cannot read nope.toml"), "{stderr}");

    // No fallback.
    let text =
        std::fs::read_to_string(&config).expect("the config").replace(&format!("fallback = \"{FALLBACK}\"\n"), "");
    std::fs::write(&config, text).expect("the config");
    let (output, _, stderr) =
        run(workspace.cutover().args(["redirects", "serve"]).arg("cutover.toml").args(["--listen", "127.0.0.1:0"]));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has no `[redirects] fallback`"), "{stderr}");
}
