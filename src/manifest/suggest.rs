//! "Did you mean ...?" suggestions for misspelt keys and values.

/// The closest candidate to `input`, if one is close enough to be a likely
/// typo (case differences always count as close).
pub fn did_you_mean<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = input.to_lowercase();
    if let Some(c) = candidates.iter().find(|c| c.to_lowercase() == lower) {
        return Some(c);
    }
    let norm = |s: &str| s.to_lowercase().replace(['-', '_', '"', '\''], "");
    let n_input = norm(input);
    if let Some(c) = candidates.iter().find(|c| norm(c) == n_input) {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), *c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_and_case() {
        let keys = ["memory", "timeout", "timeout_threshold", "name"];
        assert_eq!(did_you_mean("memmory", &keys), Some("memory"));
        assert_eq!(
            did_you_mean("timeout_threshold\"", &keys),
            Some("timeout_threshold")
        );
        assert_eq!(did_you_mean("Timeout", &keys), Some("timeout"));
        assert_eq!(did_you_mean("zzz", &keys), None);
    }
}
