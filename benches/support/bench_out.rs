//! A benchmark's figures as one JSON object, for `scripts/bench`, which runs every
//! benchmark and writes `docs/PERFORMANCE.md` from these files.
//!
//! Each bench includes this file (`#[path = ...] mod bench_out;`), adds its measures and
//! calls [`Report::write`] at the end: when `STRONGROOM_BENCH_OUT` names a file, the object
//! is written there; when it is unset, nothing is written and the bench behaves as before.
//!
//! ```json
//! { "bench": "vault", "scale": { "matters": 100000 },
//!   "measures": [ { "id": "search-p99", "name": "search p99", "value": 26.7, "unit": "ms",
//!                   "baseline": null, "target": "<= 20 ms", "met": false, "detail": null } ],
//!   "notes": [ "..." ] }
//! ```
//!
//! `met` is decided here, from the same numbers the bench prints: `null` for a measure
//! without a target.

use serde_json::{Map, Value, json};

/// The environment variable naming the file to write the figures to.
pub const OUT_VAR: &str = "STRONGROOM_BENCH_OUT";

/// One figure: its value, what it is measured against in the same run, and its target.
pub struct Measure {
    id: String,
    name: String,
    value: f64,
    unit: String,
    baseline: Option<Value>,
    target: Option<(String, bool)>,
    detail: Option<String>,
}

impl Measure {
    /// `id` is stable (the report's summary finds targets by it); `name` is for people.
    pub fn new(id: &str, name: &str, value: f64, unit: &str) -> Self {
        Measure {
            id: id.to_owned(),
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
            baseline: None,
            target: None,
            detail: None,
        }
    }

    /// Target: the value is at most `limit` (in the measure's unit).
    pub fn at_most(self, limit: f64) -> Self {
        let expr = format!("<= {}", amount(limit, &self.unit));
        self.at_most_as(limit, &expr)
    }

    /// Target: at most `limit`, written as `expr` (when the target's own unit differs).
    pub fn at_most_as(mut self, limit: f64, expr: &str) -> Self {
        self.target = Some((expr.trim().to_owned(), self.value <= limit));
        self
    }

    /// Target: the value is at least `limit`.
    pub fn at_least(mut self, limit: f64) -> Self {
        let expr = format!(">= {}", amount(limit, &self.unit));
        self.target = Some((expr.trim().to_owned(), self.value >= limit));
        self
    }

    /// What this figure is read against, measured in the same run.
    pub fn baseline(mut self, value: f64, unit: &str, what: &str) -> Self {
        self.baseline = Some(json!({ "value": value, "unit": unit, "what": what }));
        self
    }

    /// A few words more (for example the maximum beside a p99).
    pub fn detail(mut self, detail: &str) -> Self {
        self.detail = Some(detail.to_owned());
        self
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "value": finite(self.value),
            "unit": self.unit,
            "baseline": self.baseline,
            "target": self.target.as_ref().map(|(e, _)| e),
            "met": self.target.as_ref().map(|(_, met)| *met),
            "detail": self.detail,
        })
    }
}

/// The whole bench's figures.
pub struct Report {
    bench: String,
    scale: Map<String, Value>,
    measures: Vec<Measure>,
    notes: Vec<String>,
}

impl Report {
    pub fn new(bench: &str) -> Self {
        Report {
            bench: bench.to_owned(),
            scale: Map::new(),
            measures: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A size the run was made at (matters, rows, samples, ...).
    pub fn scale(&mut self, key: &str, value: impl Into<Value>) {
        self.scale.insert(key.to_owned(), value.into());
    }

    pub fn push(&mut self, measure: Measure) {
        self.measures.push(measure);
    }

    /// A line of context printed under the bench's table.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Writes the object to the file `STRONGROOM_BENCH_OUT` names, if it names one.
    pub fn write(&self) {
        let Some(path) = std::env::var_os(OUT_VAR).filter(|p| !p.is_empty()) else {
            return;
        };
        let object = json!({
            "bench": self.bench,
            "scale": self.scale,
            "measures": self.measures.iter().map(Measure::to_json).collect::<Vec<_>>(),
            "notes": self.notes,
        });
        let text = serde_json::to_string_pretty(&object).expect("the figures serialise");
        if let Err(e) = std::fs::write(&path, text + "\n") {
            panic!("writing the figures to {}: {e}", path.to_string_lossy());
        }
    }
}

/// A limit as written in a target: no trailing zeros; `1.3x`, `20 ms`.
fn amount(x: f64, unit: &str) -> String {
    let s = format!("{x}");
    let n = s.strip_suffix(".0").unwrap_or(&s);
    match unit {
        "x" => format!("{n}x"),
        "" => n.to_owned(),
        _ => format!("{n} {unit}"),
    }
}

/// JSON has no NaN or infinity: those become null.
fn finite(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}
