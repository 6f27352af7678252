//! What a run costs, priced from its config and the data shapes before anything is allocated,
//! and what the machine (or the browser tab) allows. Memory is counted in bytes, work in
//! multiply-adds. A config above the budget is refused with an error naming the option whose
//! part of the cost is largest and the estimate, so that allocation failure is never how a
//! user learns that a config is too big.

use crate::error::{Error, Result};

/// Work the command line runs in one go: 10^13 multiply-adds are about an hour on one core of
/// this lab's CPU kernels (a few GFLOP/s on the small matrices these networks use).
pub const CLI_MAX_WORK: f64 = 1e13;

/// Memory a page may use when the browser does not say: wasm32 addresses 4 GiB at most and
/// browsers grant about half of that to one tab before it is killed.
pub const PAGE_MAX_MEMORY: f64 = 1.5e9;

/// One part of a cost: what it is (naming the options that set it) and its size.
#[derive(Clone, Debug)]
struct Part {
    option: &'static str,
    what: String,
    size: f64,
}

/// The memory and work a run needs, as a sum of named parts.
#[derive(Clone, Debug, Default)]
pub struct Cost {
    memory: Vec<Part>,
    work: Vec<Part>,
}

impl Cost {
    /// Nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` of memory for `what`, set mainly by `option`.
    pub fn memory(mut self, option: &'static str, what: impl Into<String>, bytes: f64) -> Self {
        self.memory.push(Part {
            option,
            what: what.into(),
            size: bytes,
        });
        self
    }

    /// Adds `madds` multiply-adds of work for `what`, set mainly by `option`.
    pub fn work(mut self, option: &'static str, what: impl Into<String>, madds: f64) -> Self {
        self.work.push(Part {
            option,
            what: what.into(),
            size: madds,
        });
        self
    }

    /// Both costs together (one run after the other, memory held at once).
    pub fn and(mut self, other: Cost) -> Self {
        self.memory.extend(other.memory);
        self.work.extend(other.work);
        self
    }

    /// The memory parts alone (a run repeated: its memory once, its work counted apart).
    pub fn without_work(mut self) -> Self {
        self.work.clear();
        self
    }

    /// Peak memory in bytes.
    pub fn bytes(&self) -> f64 {
        total(&self.memory)
    }

    /// Work in multiply-adds.
    pub fn madds(&self) -> f64 {
        total(&self.work)
    }
}

/// The sum of the parts; NaN sizes (from overflowed products) count as infinite.
fn total(parts: &[Part]) -> f64 {
    parts
        .iter()
        .map(|p| {
            if p.size.is_nan() {
                f64::INFINITY
            } else {
                p.size
            }
        })
        .sum()
}

/// What a run may use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Bytes of memory.
    pub memory: f64,
    /// Multiply-adds.
    pub work: f64,
    /// How the user raises the memory limit, or where it comes from.
    pub memory_source: &'static str,
    /// What running more work takes.
    pub work_source: &'static str,
}

impl Budget {
    /// The command line's budget: `memory` bytes (the machine's, or `--memory-limit`).
    pub fn cli(memory: f64) -> Self {
        Self {
            memory,
            work: CLI_MAX_WORK,
            memory_source: "set by --memory-limit, default: the memory this process may use",
            work_source: "hours on a CPU",
        }
    }

    /// A page's budget: `work` multiply-adds (about a minute of its backend) and the tab's memory.
    pub fn page(work: f64) -> Self {
        Self {
            memory: PAGE_MAX_MEMORY,
            work,
            memory_source: "what a browser tab may hold",
            work_source: "about a minute here; the command line runs more",
        }
    }

    /// Refuses `cost` above the budget, naming the option of its largest part.
    pub fn check(&self, cost: &Cost) -> Result<()> {
        if cost.bytes() > self.memory {
            return Err(refusal(
                &cost.memory,
                format!(
                    "about {} in all, more than the {} limit ({})",
                    bytes(cost.bytes()),
                    bytes(self.memory),
                    self.memory_source
                ),
                bytes,
            ));
        }
        if cost.madds() > self.work {
            return Err(refusal(
                &cost.work,
                format!(
                    "about {:.1e} multiply-adds in all, more than the {:.0e} ({}) one run may take",
                    cost.madds(),
                    self.work,
                    self.work_source
                ),
                |m| format!("{m:.1e} multiply-adds"),
            ));
        }
        Ok(())
    }
}

/// The error for a cost over its limit: the largest part names the option.
fn refusal(parts: &[Part], summary: String, unit: impl Fn(f64) -> String) -> Error {
    let largest = parts
        .iter()
        .max_by(|a, b| a.size.total_cmp(&b.size))
        .map_or("size", |p| p.option);
    let listed: Vec<String> = parts
        .iter()
        .filter(|p| p.size > 0.0 || p.size.is_nan()) // an overflowed product is listed
        .map(|p| format!("{} needs {}", p.what, unit(p.size)))
        .collect();
    Error::config(largest, format!("{}: {summary}", listed.join("; ")))
}

/// A byte count for people: `1.1 GB`.
pub fn bytes(b: f64) -> String {
    match b {
        b if !b.is_finite() => "more than can be addressed".into(),
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b => format!("{:.0} kB", (b / 1e3).ceil()),
    }
}

/// A count as f64 for cost arithmetic, where products of counts must not overflow.
pub fn f(n: usize) -> f64 {
    n as f64
}

/// The memory of an MLP `input -> depth x width -> outputs` in f64: `copies` copies of its
/// parameters (network, gradient, optimizer moments, snapshots) and the preactivations,
/// activations and deltas of `rows` rows, plus the data itself (`rows x (input + outputs)`,
/// held twice: as read and as split).
pub fn mlp_memory(
    input: usize,
    width: usize,
    depth: usize,
    outputs: usize,
    copies: f64,
    rows: usize,
) -> Cost {
    let (d, n, l, c) = (f(input), f(width), f(depth), f(outputs));
    let params = (d + 1.0) * n + (l - 1.0) * (n + 1.0) * n + (n + 1.0) * c;
    Cost::new()
        .memory(
            "width",
            format!("{copies} copies of the {params:.0} parameters of {input} -> {depth} x {width} -> {outputs}"),
            copies * params * 8.0,
        )
        .memory(
            "samples",
            format!("the activations of {rows} rows"),
            3.0 * f(rows) * (l * n + c) * 8.0,
        )
        .memory(
            "samples",
            format!("{rows} rows of data"),
            2.0 * f(rows) * (d + c) * 8.0,
        )
}

/// Refuses a run that costs more than `limit` multiply-adds, before it allocates anything,
/// naming `field` (the option to lower) and, below the command line's limit (a page's), the
/// command that runs it.
pub fn check_work(field: &str, work: f64, limit: f64, command: &str) -> Result<()> {
    if work > limit {
        return Err(Error::config(
            field,
            format!(
                "the run would take about {work:.1e} multiply-adds, more than the {limit:.0e} allowed here{}",
                if limit < CLI_MAX_WORK {
                    format!(" (the page's limit): the command line runs it (theorylab {command})")
                } else {
                    " (hours on a CPU)".into()
                }
            ),
        ));
    }
    Ok(())
}
