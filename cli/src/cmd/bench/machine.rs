//! What the bench report says of the machine, and the CPU time this process
//! used, both read from Linux's `/proc` (unknown elsewhere).

use std::time::Duration;

/// `/proc/self/stat` counts CPU time in these ticks per second (`USER_HZ`,
/// fixed at 100 in Linux's user-space ABI).
const TICKS_PER_SECOND: u64 = 100;

/// The machine a bench ran on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// CPU model, from `/proc/cpuinfo`.
    pub cpu: Option<String>,
    /// Logical CPUs this process may run on.
    pub cores: usize,
}

impl Machine {
    /// Describes this machine.
    pub fn this() -> Machine {
        Machine {
            cpu: std::fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(|text| cpu_model(&text)),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

/// User plus system CPU time this process has used so far, every thread included.
pub fn cpu_time() -> Option<Duration> {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|text| cpu_time_in_stat(&text))
}

/// `utime + stime` (fields 14 and 15) of a `/proc/PID/stat` line.
fn cpu_time_in_stat(stat: &str) -> Option<Duration> {
    // The command name (field 2) is in parentheses and may hold spaces or parentheses.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    Some(Duration::from_secs(ticks / TICKS_PER_SECOND) + Duration::from_millis(ticks % TICKS_PER_SECOND * 10))
}

/// The first `model name` of `/proc/cpuinfo` (x86), else its `Model` or `Hardware` line (ARM).
fn cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Model", "Hardware"].iter().find_map(|key| {
        cpuinfo.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name.trim() == *key && !value.trim().is_empty()).then(|| value.trim().to_string())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_utime_plus_stime() {
        let stat = "4242 (tokio (worker) 1) S 1 4242 4242 0 -1 4194304 2000 0 0 0 250 133 0 0 20 0 9 0 1 2 3";
        assert_eq!(cpu_time_in_stat(stat), Some(Duration::from_millis(3830)));
        assert_eq!(cpu_time_in_stat("garbage"), None);
    }

    #[test]
    fn cpu_model_is_the_first_model_name() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\n\
                       model name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }
}
