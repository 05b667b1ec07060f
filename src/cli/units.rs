//! Flag values with units, as the README writes them: sizes (`10k`,
//! `10MiB`, `1048576`) and durations (`30s`, `2m`, `1.5`). Each parses from
//! the command line (clap's `FromStr`) and from a job file, where a bare
//! number is taken too (`max-body = 1048576`, `timeout = 30`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A number of bytes: digits, then an optional unit. `k`/`K`/`KB`/`KiB`
/// are 1024 (the README's "10 MiB" is what a user copies), as are `m`
/// and `g` with the same spellings; `B` alone is bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Size, String> {
        let bad = || format!("expected a size like 1048576, 512k or 10MiB, not {s:?}");
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = t.split_at(split);
        let n: u64 = n.parse().map_err(|_| bad())?;
        let shift = match unit.trim_start().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            _ => return Err(bad()),
        };
        n.checked_mul(1 << shift).map(Size).ok_or_else(bad)
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A duration: a number of seconds (`30`, `1.5`), or a number with one
/// unit (`500ms`, `30s`, `2m`, `1h`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub f64);

impl FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Seconds, String> {
        let bad = || format!("expected a duration like 30, 1.5, 500ms, 30s or 2m, not {s:?}");
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(t.len());
        let (n, unit) = t.split_at(split);
        let n: f64 = n.parse().map_err(|_| bad())?;
        let scale = match unit.trim_start() {
            "" | "s" => 1.0,
            "ms" => 0.001,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        Ok(Seconds(n * scale))
    }
}

impl Seconds {
    /// A positive, finite duration, or why not.
    pub fn positive(self) -> Result<Duration, String> {
        Duration::try_from_secs_f64(self.0)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("must be a positive duration, not {}", self.0))
    }
}

/// A job-file value: a bare number or a string in the flag's syntax.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Int(u64),
    Float(f64),
    Text(String),
}

impl<'de> serde::Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Size, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Int(n) => Ok(Size(n)),
            NumberOrText::Float(f) => Err(serde::de::Error::custom(format!(
                "expected a whole number of bytes or a size like 10MiB, not {f}"
            ))),
            NumberOrText::Text(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Int(n) => Ok(Seconds(n as f64)),
            NumberOrText::Float(f) => Ok(Seconds(f)),
            NumberOrText::Text(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let ok = |s: &str| s.parse::<Size>().unwrap().0;
        assert_eq!(ok("1048576"), 1_048_576);
        assert_eq!(ok("10k"), 10 * 1024);
        assert_eq!(ok("10K"), 10 * 1024);
        assert_eq!(ok("10KiB"), 10 * 1024);
        assert_eq!(ok("10MiB"), 10 << 20);
        assert_eq!(ok("10 MiB"), 10 << 20);
        assert_eq!(ok("2g"), 2 << 30);
        assert_eq!(ok("7B"), 7);
        for bad in [
            "",
            "k",
            "-1",
            "1.5m",
            "10 apples",
            "99999999999999999999",
            "17179869184g",
        ] {
            let e = bad.parse::<Size>().unwrap_err();
            assert!(e.contains("expected a size"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations() {
        let ok = |s: &str| s.parse::<Seconds>().unwrap().0;
        assert_eq!(ok("30"), 30.0);
        assert_eq!(ok("1.5"), 1.5);
        assert_eq!(ok("30s"), 30.0);
        assert_eq!(ok("2m"), 120.0);
        assert_eq!(ok("1h"), 3600.0);
        assert_eq!(ok("500ms"), 0.5);
        assert_eq!(ok("-1"), -1.0);
        assert!(Seconds(-1.0).positive().is_err());
        assert!(Seconds(0.0).positive().is_err());
        assert!(Seconds(f64::NAN).positive().is_err());
        assert_eq!(Seconds(2.0).positive().unwrap(), Duration::from_secs(2));
        for bad in ["", "s", "2 parsecs", "1d"] {
            assert!(bad.parse::<Seconds>().is_err(), "{bad}");
        }
    }

    #[test]
    fn job_file_values() {
        #[derive(serde::Deserialize)]
        struct T {
            size: Size,
            secs: Seconds,
        }
        let t: T = toml::from_str("size = 1024\nsecs = 2.5\n").unwrap();
        assert_eq!((t.size, t.secs), (Size(1024), Seconds(2.5)));
        let t: T = toml::from_str("size = \"10MiB\"\nsecs = \"2m\"\n").unwrap();
        assert_eq!((t.size, t.secs), (Size(10 << 20), Seconds(120.0)));
        assert!(toml::from_str::<T>("size = \"lots\"\nsecs = 1\n").is_err());
    }
}
