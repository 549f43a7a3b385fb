//! The vault's benchmark: bulk apply of a practice (100k matters and 1M related rows) with
//! the full-text index, beside plain SQLite doing the same work in the same run; search
//! latency on the result; open and unlock.
//!
//! `cargo bench -p strongroom-vault --features bench-baseline --bench vault`
//! Size: `STRONGROOM_BENCH_MATTERS` (default 100000; related rows are ten times that);
//! changes per page: `STRONGROOM_BENCH_PAGE` (default: the protocol's largest page). Pages
//! are grouped into transactions of up to `BULK_BATCH_CHANGES` changes, as the client does.
//! `STRONGROOM_BENCH_OUT`: a file to write the figures to as JSON, for `scripts/bench`.

#[path = "../../../benches/support/bench_out.rs"]
#[allow(dead_code)]
mod bench_out;

#[path = "../../../benches/support/desktop_user.rs"]
mod desktop_user;

mod support;

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strongroom_protocol::{ChangesPage, MatterStatus};
use strongroom_vault::{BULK_BATCH_CHANGES, SearchQuery, Vault, VaultKey};

use bench_out::{Measure, Report};
use support::practice::{
    FIRST, LAST, LAWYERS, PAGE, WORDS, bench_dir, dataset, matters_from_env, pages,
};

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:28} [{bar:30}] {pos}/{len} pages, {per_sec}, eta {eta}")
            .unwrap()
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// CPU time used by the process so far (user + system), from `/proc/self/stat`: on a shared
/// machine it moves far less than wall-clock time when other work competes for the cores.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after the name and state,
    // in clock ticks (100 a second on Linux).
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// What one bulk load took.
struct Took {
    /// Wall-clock time, all of it.
    total: Duration,
    /// Wall-clock time of building the indexes at the end.
    index: Duration,
    /// CPU time of the process, all of it.
    cpu: Duration,
}

/// Applies every page in bulk mode and builds the index.
fn load(mut v: Vault, pages: &[ChangesPage], what: &str) -> (Vault, Took) {
    let pb = bar(pages.len() as u64, what);
    let t = Instant::now();
    let c0 = cpu_time();
    v.begin_bulk_load().unwrap();
    // As the client does: consecutive pages grouped up to BULK_BATCH_CHANGES a transaction.
    let mut start = 0;
    while start < pages.len() {
        let mut end = start;
        let mut changes = 0;
        while end < pages.len() && (end == start || changes < BULK_BATCH_CHANGES) {
            changes += pages[end].changes.len();
            end += 1;
        }
        v.apply_pages(&pages[start..end], "2026-11-27T00:00:00Z")
            .unwrap();
        pb.inc((end - start) as u64);
        start = end;
    }
    pb.set_message(format!("{what}: index"));
    let ti = Instant::now();
    v.finish_bulk_load().unwrap();
    let index = ti.elapsed();
    let took = Took {
        total: t.elapsed(),
        index,
        cpu: cpu_time() - c0,
    };
    pb.finish_and_clear();
    (v, took)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let as_user = desktop_user::as_desktop_user();
    eprintln!("{as_user}");
    let matters = matters_from_env();
    let dir = bench_dir();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("generating {matters} matters and their related records…");
    let records = dataset(matters);
    let rows = records.len();
    let page: usize = std::env::var("STRONGROOM_BENCH_PAGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(PAGE);
    let pages = pages(records, page);

    // Baseline first, then SQLCipher: same rows, same code, same pragmas, same machine.
    let plain_path = dir.path().join("plain.db");
    let (plain, plain_took) = load(
        Vault::create_unencrypted_baseline(&plain_path).unwrap(),
        &pages,
        "plain SQLite",
    );
    drop(plain);
    std::fs::remove_file(&plain_path).ok();

    let path = dir.path().join("vault.db");
    let key = VaultKey::generate().unwrap();
    let (vault, cipher_took) = load(
        Vault::create(&path, &key).unwrap(),
        &pages,
        "SQLCipher vault",
    );

    // Search: search-as-you-type prefixes, whole words, numbers, names, filters.
    let mut rng = StdRng::seed_from_u64(7);
    let mut queries: Vec<SearchQuery> = Vec::new();
    for i in 0..400 {
        let w = WORDS[rng.random_range(0..WORDS.len())];
        let text = match i % 8 {
            0 => w[..1].to_owned(),
            1 => w[..2].to_owned(),
            2 => w[..3.min(w.len())].to_owned(),
            3 => w.to_owned(),
            4 => format!("{} {}", w, &WORDS[rng.random_range(0..WORDS.len())][..3]),
            5 => format!("HV-{}-{:05}", 2020 + i % 7, rng.random_range(0..matters)),
            6 => LAST[rng.random_range(0..LAST.len())].to_lowercase(),
            _ => format!(
                "{} {}",
                FIRST[rng.random_range(0..FIRST.len())],
                &LAST[rng.random_range(0..LAST.len())][..2]
            ),
        };
        let status = (i % 5 == 0).then_some(MatterStatus::Closed);
        let responsible = (i % 7 == 0).then(|| LAWYERS[i % LAWYERS.len()].to_owned());
        queries.push(SearchQuery {
            text,
            status,
            responsible,
            matter_type: None,
            limit: 50,
        });
    }
    for q in queries.iter().take(20) {
        vault.search(q).unwrap(); // warm the cache, as a running app would be
    }
    let mut timed: Vec<(Duration, usize)> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let t = Instant::now();
            let hits = vault.search(q).unwrap();
            std::hint::black_box(hits);
            (t.elapsed(), i)
        })
        .collect();
    timed.sort();
    // The slowest queries, for the analysis of the tail.
    eprintln!("the slowest searches:");
    for (took, i) in timed.iter().rev().take(8) {
        let q = &queries[*i];
        eprintln!(
            "  {:>8.2} ms  {:?} status {:?} responsible {:?}",
            ms(*took),
            q.text,
            q.status,
            q.responsible
        );
    }
    // The median of each kind of search: without filters, with one, with two or more.
    for filters in 0..=2 {
        let mut of_kind: Vec<Duration> = timed
            .iter()
            .filter(|(_, i)| {
                let q = &queries[*i];
                let n = usize::from(q.status.is_some())
                    + usize::from(q.responsible.is_some())
                    + usize::from(q.matter_type.is_some());
                n.min(2) == filters
            })
            .map(|(took, _)| *took)
            .collect();
        of_kind.sort();
        if let Some(p50) = of_kind.get(of_kind.len() / 2) {
            eprintln!(
                "searches with {filters}{} filters: {} of them, p50 {:.2} ms",
                if filters == 2 { " or more" } else { "" },
                of_kind.len(),
                ms(*p50)
            );
        }
    }
    let lat: Vec<Duration> = timed.into_iter().map(|(took, _)| took).collect();
    vault.close().unwrap();

    // Open and unlock: key, cipher check, migrations check, first query.
    let mut opens: Vec<Duration> = (0..30)
        .map(|_| {
            let t = Instant::now();
            let v = Vault::open(&path, &key).unwrap();
            std::hint::black_box(v.matter_count().unwrap());
            let took = t.elapsed();
            v.close().unwrap();
            took
        })
        .collect();
    opens.sort();

    let (plain_time, plain_index) = (plain_took.total, plain_took.index);
    let (cipher_time, cipher_index) = (cipher_took.total, cipher_took.index);
    let rate = |d: Duration| rows as f64 / d.as_secs_f64();
    println!("| measure | result | baseline (same run) | target |");
    println!("|---|---|---|---|");
    println!(
        "| bulk apply, {rows} rows, full-text index included | {:.0} rows/s ({:.1} s) | plain SQLite {:.0} rows/s ({:.1} s); SQLCipher {:.2}x slower | >= 200k rows/s, <= 1.3x |",
        rate(cipher_time),
        cipher_time.as_secs_f64(),
        rate(plain_time),
        plain_time.as_secs_f64(),
        cipher_time.as_secs_f64() / plain_time.as_secs_f64()
    );
    println!(
        "| of which building the indexes | {:.1} s | plain SQLite {:.1} s | — |",
        cipher_index.as_secs_f64(),
        plain_index.as_secs_f64()
    );
    println!(
        "| CPU time of the bulk apply (user + system) | {:.1} s | plain SQLite {:.1} s; {:.2}x | — |",
        cipher_took.cpu.as_secs_f64(),
        plain_took.cpu.as_secs_f64(),
        cipher_took.cpu.as_secs_f64() / plain_took.cpu.as_secs_f64()
    );
    println!(
        "| search, {} queries, p50 / p99 / max | {:.2} / {:.2} / {:.2} ms | — | p50 <= 5 ms, p99 <= 20 ms |",
        lat.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap())
    );
    println!(
        "| open and unlock, first query, p50 / max of {} | {:.2} / {:.2} ms | — | <= 20 ms |",
        opens.len(),
        ms(percentile(&opens, 0.5)),
        ms(*opens.last().unwrap())
    );
    // The machine may be shared: how busy it was around the run.
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let first3 = |s: &str| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    println!(
        "| load average (1, 5, 15 min) before / after | {} / {} | — | — |",
        first3(&load_before),
        first3(&load_after)
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("| vault file size | {:.0} MB | — | — |", size as f64 / 1e6);

    let mut report = Report::new("vault");
    report.note(as_user);
    report.scale("matters", matters as u64);
    report.scale("rows", rows as u64);
    report.scale("changes_per_page", page as u64);
    report.scale("queries", lat.len() as u64);
    report.scale("opens", opens.len() as u64);
    let plain = "plain SQLite, same rows, same code and pragmas";
    report.push(
        Measure::new(
            "vault-bulk-rate",
            &format!("bulk apply, {rows} rows, full-text index included"),
            rate(cipher_time),
            "rows/s",
        )
        .at_least(200_000.0)
        .baseline(rate(plain_time), "rows/s", plain)
        .detail(&format!(
            "{:.1} s beside {:.1} s",
            cipher_time.as_secs_f64(),
            plain_time.as_secs_f64()
        )),
    );
    report.push(
        Measure::new(
            "vault-bulk-ratio",
            "bulk apply, SQLCipher time over plain SQLite time",
            cipher_time.as_secs_f64() / plain_time.as_secs_f64(),
            "x",
        )
        .at_most(1.3)
        .baseline(plain_time.as_secs_f64(), "s", plain),
    );
    report.push(
        Measure::new(
            "vault-index-build",
            "of which building the indexes",
            cipher_index.as_secs_f64(),
            "s",
        )
        .baseline(plain_index.as_secs_f64(), "s", plain),
    );
    report.push(
        Measure::new(
            "vault-bulk-cpu",
            "CPU time of the bulk apply (user + system)",
            cipher_took.cpu.as_secs_f64(),
            "s",
        )
        .baseline(plain_took.cpu.as_secs_f64(), "s", plain),
    );
    let search = |p: f64| ms(percentile(&lat, p));
    let queries = format!("{} queries", lat.len());
    report.push(
        Measure::new(
            "search-p50",
            &format!("search p50, {queries}"),
            search(0.5),
            "ms",
        )
        .at_most(5.0),
    );
    report.push(
        Measure::new(
            "search-p99",
            &format!("search p99, {queries}"),
            search(0.99),
            "ms",
        )
        .at_most(20.0)
        .detail(&format!("max {:.2} ms", ms(*lat.last().unwrap()))),
    );
    report.push(
        Measure::new(
            "open-unlock",
            &format!("open and unlock, first query, p50 of {}", opens.len()),
            ms(percentile(&opens, 0.5)),
            "ms",
        )
        .at_most(20.0)
        .detail(&format!("max {:.2} ms", ms(*opens.last().unwrap()))),
    );
    report.push(Measure::new(
        "vault-file-size",
        "vault file size",
        size as f64 / 1e6,
        "MB",
    ));
    report.note(format!(
        "load average (1, 5, 15 min) before / after: {} / {}",
        first3(&load_before),
        first3(&load_after)
    ));
    report.write();
}
