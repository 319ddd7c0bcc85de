//! The machine the lab runs on, as measured from inside: how busy it is now (load
//! average). A measured speedup means little on a machine whose cores other
//! programs keep busy, so measurements say so next to their figures.

/// The load average of the last minute (`/proc/loadavg`), if the system gives it.
pub fn load_average() -> Option<f64> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// The first field of `/proc/loadavg` ("0.52 0.58 0.59 1/467 12345").
pub fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// A warning when other programs keep the CPUs busy (load average of the last
/// minute above the usable CPUs): the measured speedups are then too low.
pub fn load_note(usable: usize) -> String {
    match load_average() {
        Some(l) if l > usable as f64 => format!(
            " Attention : la charge de la machine (load average {}) dépasse ses {usable} CPU : \
             d'autres programmes prennent des cœurs et les accélérations mesurées sont \
             plus faibles que sur une machine au repos.",
            crate::fr::decimal(l, 1)
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg_is_its_first_field() {
        assert_eq!(parse_loadavg("0.52 0.58 0.59 1/467 12345\n"), Some(0.52));
        assert_eq!(parse_loadavg(""), None);
        assert_eq!(parse_loadavg("x y"), None);
    }
}
