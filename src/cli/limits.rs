//! What this process may use: the memory budget every command is priced against (the
//! machine's available memory and address-space limit, or `--memory-limit`), and Ctrl-C,
//! which stops a run between slices so that it reports what it has.

use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use theorylab::core::budget::Budget;
use theorylab::error::{Error, Result};

static BUDGET: OnceLock<Budget> = OnceLock::new();
static STOP: AtomicBool = AtomicBool::new(false);

/// A size in bytes as the flag takes it: `4G`, `500M`, `2GB`, `1.5e9`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Size(pub f64);

impl FromStr for Size {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        let t = text.trim().to_ascii_uppercase();
        let t = t.strip_suffix('B').unwrap_or(&t);
        let (number, scale) = match t.char_indices().last() {
            Some((i, 'K')) => (&t[..i], 1e3),
            Some((i, 'M')) => (&t[..i], 1e6),
            Some((i, 'G')) => (&t[..i], 1e9),
            Some((i, 'T')) => (&t[..i], 1e12),
            _ => (t, 1.0),
        };
        match number.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(Size(x * scale)),
            _ => Err(Error::config(
                "memory-limit",
                format!("'{text}' is not a positive size such as 4G or 500M"),
            )),
        }
    }
}

/// Sets the budget (once, from `main`) and installs the Ctrl-C handler.
pub fn init(memory_limit: Option<Size>) {
    // The flag may lower the budget below the machine's, or raise it above the memory free
    // now, but not above `ulimit -v`: past that, allocation fails whatever the flag says.
    let memory = memory_limit.map_or_else(machine_memory, |s| s.0.min(address_space()));
    let _ = BUDGET.set(Budget::cli(memory));
    // Without a handler (another one installed) Ctrl-C ends the process as before.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130); // a second Ctrl-C does not wait for the slice
        }
        eprintln!("\nstopping after this slice (Ctrl-C again to quit at once)");
    });
}

/// The budget every command checks its cost against.
pub fn budget() -> Budget {
    *BUDGET.get_or_init(|| Budget::cli(machine_memory()))
}

/// Whether Ctrl-C was pressed.
pub fn stopped() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// 80% of the smaller of the memory available now and this process's address-space limit
/// (`ulimit -v`): the rest is the binary, the allocator's slack and what the estimates miss.
/// Where neither can be read (not Linux), 4 GB.
fn machine_memory() -> f64 {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let available = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map(|kb| kb * 1024.0);
    let smallest = available.unwrap_or(f64::INFINITY).min(address_space());
    0.8 * if smallest.is_finite() { smallest } else { 4e9 }
}

/// This process's address-space limit (`ulimit -v`) in bytes, infinite where there is none.
fn address_space() -> f64 {
    std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max address space"))
        .and_then(|l| l.split_whitespace().nth(3)?.parse::<f64>().ok())
        .unwrap_or(f64::INFINITY)
}
