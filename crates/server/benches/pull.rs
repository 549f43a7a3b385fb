//! The hosted service's pull benchmark: many clients that are up to date, or a few changes
//! behind, asking for what is new, while one member keeps writing.
//!
//! For each store (SQLite in a temporary directory, then PostgreSQL in a fresh schema of
//! its own, dropped at the end) it starts the real server in this process on
//! `127.0.0.1:0` with real TLS, seeds a benchmark practice with
//! [`strongroom_server::operator::seed_benchmark`], signs its member in once per client,
//! and then runs two phases with the same clients (each its own `reqwest` client: one
//! HTTP/1.1 keep-alive connection over rustls, trusting the server's development CA):
//!
//! 1. the baseline: `GET /v1/health` as fast as each client can, for the same time: TLS,
//!    HTTP and routing without the store, so the store's share of a pull is visible;
//! 2. incremental pulls: `GET /v1/sync/changes?after=<cursor>&limit=500` with the client's
//!    bearer token, where the cursor is the feed's head less a random 0 to 49 changes, while
//!    a writer `PUT`s a new file note through the records API every 50 ms.
//!
//! Each phase warms up for 2 s before it measures. It reports completed answers per
//! second (a pull counts when it is a 200 whose page parses), latency p50 / p99 / max
//! (send to body parsed, sorted samples), and every other answer as an error. The load
//! generator runs in the same process as the server and shares its cores: the baseline is
//! measured the same way, so read the pull figures beside it. It also reports the CPU time
//! each answer cost, in this process (server, clients and writer together) and in the
//! PostgreSQL backends serving it (found by an application name of the run's own, read
//! from `/proc`): on a machine that others are using too, that figure moves much less
//! than the rates do.
//!
//! ```sh
//! cargo bench -p strongroom-server --bench pull
//! ```
//!
//! Environment:
//! - `STRONGROOM_BENCH_MATTERS` (default 10000) and `STRONGROOM_BENCH_RELATED` (default
//!   100000): the seeded practice's size;
//! - `STRONGROOM_BENCH_CLIENTS` (default 32): concurrent clients;
//! - `STRONGROOM_BENCH_SECONDS` (default 20): each phase's measured time;
//! - `STRONGROOM_BENCH_LIMIT` (default 500) and `STRONGROOM_BENCH_BEHIND` (default 50):
//!   a pull's `limit`, and how far behind the head a client's cursor may be;
//! - `STRONGROOM_BENCH_WRITE_MS` (default 50; 0 for no writer): the writer's interval;
//! - `STRONGROOM_BENCH_GZIP` (default 1; 0 for none): whether clients accept gzip, as the
//!   app's client does;
//! - `STRONGROOM_BENCH_STORES` (default `sqlite,postgres`): which stores to run;
//! - `STRONGROOM_BENCH_DATABASE_URL` (else `STRONGROOM_TEST_DATABASE_URL`, else
//!   `postgres://postgres@127.0.0.1:5432/test`): the PostgreSQL database to make the
//!   schema in.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use serde_json::{Value, json};
use strongroom_protocol::{Change, ChangesPage, FileNote};
use strongroom_server::{ServeOptions, StoreConfig};
use tokio_postgres::NoTls;
use uuid::Uuid;

const WARM_UP: Duration = Duration::from_secs(2);
/// The target: pulls per second at least, with p99 at most this.
const TARGET_PULLS_PER_SEC: f64 = 2000.0;
const TARGET_P99_MS: f64 = 50.0;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

struct Settings {
    matters: u32,
    related: u64,
    clients: usize,
    seconds: u64,
    limit: u32,
    behind: i64,
    write_every: Option<Duration>,
}

/// What one phase measured.
struct PhaseResult {
    ok: u64,
    /// Changes in the measured pulls' pages.
    items: u64,
    errors: u64,
    /// A few of the errors, to say what they were.
    error_samples: Vec<String>,
    measured: Duration,
    latencies: Vec<Duration>,
    /// CPU seconds used in the measured window by this process (server, clients and
    /// writer) and by the PostgreSQL backends serving it.
    cpu_self: f64,
    cpu_pg: Option<f64>,
}

impl PhaseResult {
    /// CPU microseconds per answer: (this process, PostgreSQL).
    fn cpu_per_answer_us(&self) -> (f64, Option<f64>) {
        let n = (self.ok + self.errors).max(1) as f64;
        (self.cpu_self * 1e6 / n, self.cpu_pg.map(|pg| pg * 1e6 / n))
    }

    fn per_sec(&self) -> f64 {
        self.ok as f64 / self.measured.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i].as_secs_f64() * 1000.0
    }

    fn max_ms(&self) -> f64 {
        self.latencies
            .last()
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    }
}

/// One client's tally of the measured window.
#[derive(Default)]
struct Tally {
    ok: u64,
    items: u64,
    errors: u64,
    error_samples: Vec<String>,
    latencies: Vec<Duration>,
}

/// A client trusting only the server's CA, HTTP/1.1 with keep-alive. Its pool may open a
/// second connection when a request goes out before the last answer's connection is back
/// in the pool; it keeps it (a limit of one idle connection made it churn, a TLS handshake
/// every few dozen pulls, which no real client pulling every few seconds would see).
fn client_trusting(ca_pem: &[u8]) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(c.expect("the CA is PEM")).expect("the CA parses");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(cfg)
        .http1_only()
        .gzip(env_or("STRONGROOM_BENCH_GZIP", 1u8) != 0)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a reqwest client")
}

/// CPU seconds (user and system) a process has used, from `/proc/PID/stat` (clock ticks
/// of 1/100 s, Linux's `USER_HZ`).
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The PostgreSQL backends of this run's server, found by their application name.
struct PgCpu {
    admin: tokio_postgres::Client,
    application_name: String,
}

impl PgCpu {
    /// CPU seconds of each of the server's backends so far, by pid.
    async fn sample(&self) -> std::collections::HashMap<i32, f64> {
        let rows = self
            .admin
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                &[&self.application_name],
            )
            .await
            .unwrap_or_default();
        rows.iter()
            .filter_map(|r| {
                let pid: i32 = r.get(0);
                cpu_secs(&pid.to_string()).map(|s| (pid, s))
            })
            .collect()
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Runs `clients` loops of `request` for the warm-up and then `seconds`, and tallies the
/// answers that started inside the measured window. `request` answers `Ok(items)` for a
/// success (the changes a page held; 0 for health) and `Err(description)` otherwise.
async fn phase<F, Fut>(
    name: &str,
    clients: usize,
    seconds: u64,
    pg: Option<&PgCpu>,
    request: F,
) -> PhaseResult
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<u64, String>> + Send,
{
    let request = Arc::new(request);
    let start = Instant::now();
    let measure_from = start + WARM_UP;
    let measure_to = measure_from + Duration::from_secs(seconds);
    let done = Arc::new(AtomicI64::new(0));
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let request = request.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let t = Instant::now();
                if t >= measure_to {
                    break;
                }
                let answer = request(i).await;
                let took = t.elapsed();
                done.fetch_add(1, Ordering::Relaxed);
                if t < measure_from {
                    continue;
                }
                match answer {
                    Ok(items) => {
                        tally.ok += 1;
                        tally.items += items;
                        tally.latencies.push(took);
                    }
                    Err(e) => {
                        tally.errors += 1;
                        if tally.error_samples.len() < 3 {
                            tally.error_samples.push(e);
                        }
                    }
                }
            }
            tally
        }));
    }
    let total = WARM_UP.as_secs() + seconds;
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{msg:34} [{bar:30}] {pos}/{len} s")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut cpu_at_start = None;
    while Instant::now() < measure_to {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if cpu_at_start.is_none() && Instant::now() >= measure_from {
            let pg_cpu = match pg {
                Some(pg) => Some(pg.sample().await),
                None => None,
            };
            cpu_at_start = Some((cpu_secs("self").unwrap_or(0.0), pg_cpu));
        }
        let elapsed = start.elapsed().as_secs().min(total);
        pb.set_position(elapsed);
        let phase = if Instant::now() < measure_from {
            "warming up"
        } else {
            "measuring"
        };
        pb.set_message(format!(
            "{name}: {phase}, {} answers",
            done.load(Ordering::Relaxed)
        ));
    }
    let (self_start, pg_start) = cpu_at_start.unwrap_or_default();
    let cpu_self = cpu_secs("self").unwrap_or(0.0) - self_start;
    let cpu_pg = match (pg, pg_start) {
        (Some(pg), Some(start)) => Some(
            pg.sample()
                .await
                .iter()
                .map(|(pid, end)| end - start.get(pid).copied().unwrap_or(0.0))
                .sum(),
        ),
        _ => None,
    };
    let mut result = PhaseResult {
        ok: 0,
        items: 0,
        errors: 0,
        error_samples: Vec::new(),
        measured: Duration::from_secs(seconds),
        latencies: Vec::new(),
        cpu_self,
        cpu_pg,
    };
    for t in tasks {
        let tally = t.await.expect("a client task");
        result.ok += tally.ok;
        result.items += tally.items;
        result.errors += tally.errors;
        result.latencies.extend(tally.latencies);
        for e in tally.error_samples {
            if result.error_samples.len() < 5 {
                result.error_samples.push(e);
            }
        }
    }
    pb.finish_and_clear();
    result.latencies.sort();
    result
}

/// A schema of the benchmark's own in the PostgreSQL database, dropped by [`drop_schema`].
struct PgSchema {
    admin_url: String,
    name: String,
    /// Connects with the search path set to the schema, under `application_name`.
    url: String,
    application_name: String,
}

async fn pg_connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let mut cfg: tokio_postgres::Config = url.parse()?;
    cfg.connect_timeout(Duration::from_secs(10));
    let (client, conn) = cfg.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

async fn create_schema() -> anyhow::Result<PgSchema> {
    let admin_url = [
        "STRONGROOM_BENCH_DATABASE_URL",
        "STRONGROOM_TEST_DATABASE_URL",
    ]
    .iter()
    .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
    .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let admin = pg_connect(&admin_url)
        .await
        .map_err(|e| anyhow::anyhow!("PostgreSQL is not reachable at {admin_url}: {e}"))?;
    let name = format!("srbench_{}", Uuid::new_v4().simple());
    let sql: String = admin
        .query_one("SELECT format('CREATE SCHEMA %I', $1::text)", &[&name])
        .await?
        .get(0);
    admin.batch_execute(&sql).await?;
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let application_name = format!("strongroom-bench-{}", &name[8..16]);
    let url = format!(
        "{admin_url}{sep}options=-csearch_path%3D{name}&application_name={application_name}"
    );
    Ok(PgSchema {
        admin_url,
        name,
        url,
        application_name,
    })
}

async fn drop_schema(schema: &PgSchema) {
    let Ok(admin) = pg_connect(&schema.admin_url).await else {
        eprintln!("could not reconnect to drop schema {}", schema.name);
        return;
    };
    let sql: Option<String> = admin
        .query_one(
            "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text)",
            &[&schema.name],
        )
        .await
        .ok()
        .map(|r| r.get(0));
    if let Some(sql) = sql
        && let Err(e) = admin.batch_execute(&sql).await
    {
        eprintln!("dropping schema {}: {e}", schema.name);
    }
}

/// What one store's run measured.
struct StoreResult {
    store: &'static str,
    load_before: String,
    load_after: String,
    baseline: PhaseResult,
    pulls: PhaseResult,
    writes: u64,
    write_errors: u64,
}

async fn run_store(store_name: &'static str, s: &Settings) -> anyhow::Result<StoreResult> {
    let load_before = load_average();
    let dir = tempfile::tempdir()?;
    let schema = match store_name {
        "postgres" => Some(create_schema().await?),
        _ => None,
    };
    let config = match &schema {
        Some(schema) => StoreConfig::Postgres {
            url: schema.url.clone(),
        },
        None => StoreConfig::Sqlite,
    };
    let pg_cpu = match &schema {
        Some(schema) => Some(PgCpu {
            admin: pg_connect(&schema.admin_url).await?,
            application_name: schema.application_name.clone(),
        }),
        None => None,
    };
    let result = run_server(
        store_name,
        s,
        dir.path(),
        config,
        pg_cpu.as_ref(),
        load_before,
    )
    .await;
    if let Some(schema) = &schema {
        drop_schema(schema).await;
    }
    result
}

async fn run_server(
    store_name: &'static str,
    s: &Settings,
    dir: &std::path::Path,
    config: StoreConfig,
    pg_cpu: Option<&PgCpu>,
    load_before: String,
) -> anyhow::Result<StoreResult> {
    let server = strongroom_server::start_with_store(
        ServeOptions {
            data_dir: dir.to_owned(),
            listen: "127.0.0.1:0".parse()?,
            seed_demo: false,
        },
        config,
    )
    .await?;
    let base = server.url();

    let pb = ProgressBar::new(u64::from(s.matters) + s.related);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:34} [{bar:30}] {pos}/{len} records, {per_sec}, eta {eta}",
        )?
        .progress_chars("=> "),
    );
    pb.set_message(format!("{store_name}: seeding"));
    let seeded = strongroom_server::operator::seed_benchmark(
        server.store.as_ref(),
        s.matters,
        s.related,
        |done, _| pb.set_position(done),
    )
    .await?;
    pb.finish_and_clear();
    eprintln!(
        "{store_name}: seeded {} matters and {} related records ({})",
        seeded.matters, seeded.related, seeded.email
    );

    let ca = std::fs::read(&server.ca_pem_path)?;
    let clients: Vec<reqwest::Client> = (0..s.clients).map(|_| client_trusting(&ca)).collect();
    let writer_http = client_trusting(&ca);
    let mut tokens = Vec::with_capacity(s.clients + 1);
    for i in 0..=s.clients {
        let http = clients.get(i).unwrap_or(&writer_http);
        let resp = http
            .post(format!("{base}v1/auth/sign-in"))
            .json(&json!({
                "email": seeded.email,
                "password": seeded.password,
                "device_name": format!("bench client {i}"),
            }))
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 200, "sign-in answered {}", resp.status());
        let v: Value = resp.json().await?;
        tokens.push(
            v["token"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("no token"))?
                .to_owned(),
        );
    }
    let writer_token = tokens.pop().expect("one token more than clients");

    // The feed's head, and a matter for the writer's notes.
    let first: ChangesPage = writer_http
        .get(format!("{base}v1/sync/changes?after=0&limit=1"))
        .bearer_auth(&writer_token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let matter_id = match first.changes.first().map(|c| &c.record) {
        Some(strongroom_protocol::ChangeRecord::Matter { matter }) => matter.id,
        other => anyhow::bail!("the feed does not start with a matter: {other:?}"),
    };
    let head = Arc::new(AtomicI64::new(
        i64::from(seeded.matters) + i64::try_from(seeded.related)?,
    ));

    let clients = Arc::new(clients);
    let tokens = Arc::new(tokens);

    // 1. The baseline: health, no store.
    let baseline = {
        let (clients, base) = (clients.clone(), base.clone());
        phase(
            &format!("{store_name}: baseline /v1/health"),
            s.clients,
            s.seconds,
            pg_cpu,
            move |i| {
                let req = clients[i].get(format!("{base}v1/health"));
                async move {
                    let resp = req.send().await.map_err(|e| e.to_string())?;
                    let status = resp.status();
                    let body = resp.bytes().await.map_err(|e| e.to_string())?;
                    if status != 200 {
                        return Err(format!("{status}"));
                    }
                    serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string())?;
                    Ok(0)
                }
            },
        )
        .await
    };

    // 2. Pulls, with a writer.
    let stop = Arc::new(tokio::sync::Notify::new());
    let writer = s.write_every.map(|every| {
        let (http, base, head, stop) = (
            writer_http.clone(),
            base.clone(),
            head.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let (mut writes, mut errors) = (0u64, 0u64);
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.notified() => break,
                    _ = tick.tick() => {}
                }
                let note = FileNote {
                    id: Uuid::new_v4(),
                    matter_id,
                    author: "Benchmark User".into(),
                    written_at: "2026-11-27T09:00:00Z".into(),
                    subject: format!("Benchmark note {writes}"),
                    body: "Called the client; the other side has answered the letter of demand."
                        .into(),
                };
                let answer = http
                    .put(format!("{base}v1/records/file_note/{}", note.id))
                    .bearer_auth(&writer_token)
                    .json(&note)
                    .send()
                    .await;
                match answer {
                    Ok(resp) if resp.status().is_success() => match resp.json::<Change>().await {
                        Ok(change) => {
                            head.fetch_max(change.seq, Ordering::Relaxed);
                            writes += 1;
                        }
                        Err(_) => errors += 1,
                    },
                    _ => errors += 1,
                }
            }
            (writes, errors)
        })
    });
    let pulls = {
        let (clients, tokens, base, head) =
            (clients.clone(), tokens.clone(), base.clone(), head.clone());
        let (limit, behind) = (s.limit, s.behind.max(1));
        phase(
            &format!("{store_name}: pulls /v1/sync/changes"),
            s.clients,
            s.seconds,
            pg_cpu,
            move |i| {
                let after =
                    (head.load(Ordering::Relaxed) - rand::rng().random_range(0..behind)).max(0);
                let req = clients[i]
                    .get(format!("{base}v1/sync/changes?after={after}&limit={limit}"))
                    .bearer_auth(&tokens[i]);
                let head = head.clone();
                async move {
                    let resp = req.send().await.map_err(|e| e.to_string())?;
                    let status = resp.status();
                    let body = resp.bytes().await.map_err(|e| e.to_string())?;
                    if status != 200 {
                        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
                    }
                    let page: ChangesPage =
                        serde_json::from_slice(&body).map_err(|e| e.to_string())?;
                    head.fetch_max(page.cursor, Ordering::Relaxed);
                    Ok(page.changes.len() as u64)
                }
            },
        )
        .await
    };
    stop.notify_one();
    let (writes, write_errors) = match writer {
        Some(w) => w.await?,
        None => (0, 0),
    };
    server.stop().await;
    Ok(StoreResult {
        store: store_name,
        load_before,
        load_after: load_average(),
        baseline,
        pulls,
        writes,
        write_errors,
    })
}

fn print_results(s: &Settings, results: &[StoreResult]) {
    println!();
    println!(
        "{} matters, {} related records; {} clients, {} s measured after {} s warm-up; \
         limit {}, cursor 0 to {} behind the head; a write every {}",
        s.matters,
        s.related,
        s.clients,
        s.seconds,
        WARM_UP.as_secs(),
        s.limit,
        s.behind - 1,
        s.write_every
            .map_or("— (no writer)".to_owned(), |d| format!(
                "{} ms",
                d.as_millis()
            ))
    );
    println!();
    println!(
        "| store | pulls/s | p50 | p99 | max | errors | baseline /v1/health req/s | baseline p99 | target (>= {TARGET_PULLS_PER_SEC:.0}/s, p99 <= {TARGET_P99_MS:.0} ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let p = &r.pulls;
        let met = p.per_sec() >= TARGET_PULLS_PER_SEC
            && p.percentile_ms(0.99) <= TARGET_P99_MS
            && p.errors == 0;
        println!(
            "| {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.0} | {:.1} ms | {} |",
            r.store,
            p.per_sec(),
            p.percentile_ms(0.5),
            p.percentile_ms(0.99),
            p.max_ms(),
            p.errors,
            r.baseline.per_sec(),
            r.baseline.percentile_ms(0.99),
            if met { "met" } else { "**not met**" }
        );
    }
    println!();
    for r in results {
        let avg = if r.pulls.ok > 0 {
            r.pulls.items as f64 / r.pulls.ok as f64
        } else {
            0.0
        };
        println!(
            "{}: baseline p50 {:.1} ms, max {:.1} ms, errors {}; writes {} ({} failed); \
             {avg:.1} changes a pull on average; load average {} before, {} after",
            r.store,
            r.baseline.percentile_ms(0.5),
            r.baseline.max_ms(),
            r.baseline.errors,
            r.writes,
            r.write_errors,
            r.load_before,
            r.load_after
        );
        let cpu = |p: &PhaseResult| {
            let (own, pg) = p.cpu_per_answer_us();
            let cores = (p.cpu_self + p.cpu_pg.unwrap_or(0.0)) / p.measured.as_secs_f64();
            match pg {
                Some(pg) => format!(
                    "{own:.0} µs in this process + {pg:.0} µs in PostgreSQL ({cores:.2} cores busy)"
                ),
                None => format!("{own:.0} µs in this process ({cores:.2} cores busy)"),
            }
        };
        println!(
            "{}: CPU per pull {}; per health answer {}",
            r.store,
            cpu(&r.pulls),
            cpu(&r.baseline)
        );
        for e in r
            .pulls
            .error_samples
            .iter()
            .chain(&r.baseline.error_samples)
        {
            println!("  error: {e}");
        }
    }
}

fn main() -> anyhow::Result<()> {
    let settings = Settings {
        matters: env_or("STRONGROOM_BENCH_MATTERS", 10_000),
        related: env_or("STRONGROOM_BENCH_RELATED", 100_000),
        clients: env_or("STRONGROOM_BENCH_CLIENTS", 32usize).max(1),
        seconds: env_or("STRONGROOM_BENCH_SECONDS", 20u64).max(1),
        limit: env_or("STRONGROOM_BENCH_LIMIT", 500),
        behind: env_or("STRONGROOM_BENCH_BEHIND", 50i64).max(1),
        write_every: Some(env_or("STRONGROOM_BENCH_WRITE_MS", 50u64))
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis),
    };
    let stores: Vec<String> = std::env::var("STRONGROOM_BENCH_STORES")
        .unwrap_or_else(|_| "sqlite,postgres".into())
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    strongroom_server::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut results = Vec::new();
    for store in &stores {
        let name: &'static str = match store.as_str() {
            "sqlite" => "sqlite",
            "postgres" | "postgresql" => "postgres",
            other => anyhow::bail!("unknown store {other:?}: sqlite or postgres"),
        };
        results.push(rt.block_on(run_store(name, &settings))?);
    }
    print_results(&settings, &results);
    Ok(())
}
