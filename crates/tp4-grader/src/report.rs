//! What the grading writes (atomically) in the output folder: `notes.csv` (one row
//! per student, one column per question, the total), `notes.jsonl` (one JSON object
//! per student, for an LMS import), one Markdown feedback file per student
//! (`retours/<élève>.md`), and the class summary `classe.md` with the pass rate per
//! question plotted in `reussite.svg` / `reussite.png`.

use crate::template::Template;
use crate::verdict::{Outcome, QuestionResult};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The grading of one student.
#[derive(Debug, Clone, Serialize)]
pub struct StudentReport {
    /// The student's name.
    pub student: String,
    /// The file graded.
    pub file: String,
    /// One result per question, in the source's order (empty when `error`).
    pub questions: Vec<QuestionResult>,
    /// Points earned.
    pub total: f64,
    /// Points possible.
    pub max: f64,
    /// Why the submission could not be graded at all (French), if so.
    pub error: Option<String>,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn points(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

/// `notes.csv`: `eleve,1.1,…,total,sur,erreur`.
pub fn notes_csv(t: &Template, reports: &[StudentReport]) -> String {
    let mut out = String::from("eleve");
    for q in &t.questions {
        out.push(',');
        out.push_str(&csv_field(&q.id));
    }
    out.push_str(",total,sur,erreur\n");
    for r in reports {
        out.push_str(&csv_field(&r.student));
        for q in &t.questions {
            out.push(',');
            let cell = r
                .questions
                .iter()
                .find(|x| x.question == q.id)
                .map_or("", |x| x.outcome.label());
            out.push_str(&csv_field(cell));
        }
        out.push_str(&format!(
            ",{},{},{}\n",
            points(r.total),
            points(r.max),
            csv_field(r.error.as_deref().unwrap_or(""))
        ));
    }
    out
}

/// `notes.jsonl`: one object per student.
pub fn notes_jsonl(reports: &[StudentReport]) -> String {
    reports
        .iter()
        .map(|r| serde_json::to_string(r).expect("a report always serialises") + "\n")
        .collect()
}

/// One student's feedback (Markdown, French).
pub fn feedback(r: &StudentReport, limits: &str) -> String {
    let mut out = format!(
        "# Correction du TP4 : {}\n\nFichier corrigé : `{}`\n\n",
        r.student, r.file
    );
    if let Some(e) = &r.error {
        out.push_str(&format!("**Copie non corrigée** : {e}\n"));
        return out;
    }
    out.push_str(&format!(
        "**Note : {} / {}**\n\nChaque réponse a été compilée et vérifiée avec les vérifications \
         de l'enseignant (les mêmes que dans le notebook), question par question, dans un \
         processus séparé ({limits}).\n\n| question | verdict | points |\n|---|---|---|\n",
        points(r.total),
        points(r.max)
    ));
    for q in &r.questions {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            q.question,
            q.outcome.label(),
            points(q.points)
        ));
    }
    out.push_str("\n## Détail\n");
    for q in &r.questions {
        out.push_str(&format!(
            "\n### Question {} : {}\n\n```text\n{}\n```\n",
            q.question,
            q.outcome.label(),
            q.message.replace("```", "'''")
        ));
    }
    out
}

/// Pass rate per question (in %), in the source's order.
pub fn pass_rates(t: &Template, reports: &[StudentReport]) -> Vec<(String, f64)> {
    let graded: Vec<&StudentReport> = reports.iter().filter(|r| r.error.is_none()).collect();
    t.questions
        .iter()
        .map(|q| {
            let passed = graded
                .iter()
                .filter(|r| {
                    r.questions
                        .iter()
                        .any(|x| x.question == q.id && x.outcome == Outcome::Passed)
                })
                .count();
            let rate = match graded.len() {
                0 => 0.0,
                n => 100.0 * passed as f64 / n as f64,
            };
            (q.id.clone(), rate)
        })
        .collect()
}

/// The first line of a failure message, without the student-specific values.
fn failure_key(q: &QuestionResult) -> String {
    let first = q.message.lines().next().unwrap_or("").trim();
    format!("{} : {}", q.question, first)
}

/// `classe.md`: the summary table, the plot and the most frequent failures.
pub fn class_summary(t: &Template, reports: &[StudentReport]) -> String {
    let mut out = String::from("# TP4 : résumé de la classe\n\n");
    let graded = reports.iter().filter(|r| r.error.is_none()).count();
    let mean = match graded {
        0 => 0.0,
        n => reports.iter().map(|r| r.total).sum::<f64>() / n as f64,
    };
    out.push_str(&format!(
        "{} copies, {} corrigées ; moyenne {} / {}.\n\n![Réussite par question](reussite.svg)\n\n",
        reports.len(),
        graded,
        tp4::fr::decimal(mean, 1),
        points(t.total_points())
    ));
    out.push_str("| élève | note | ✅ | ❌ | ⏳ | compilation | délai | autre |\n|---|---|---|---|---|---|---|---|\n");
    for r in reports {
        if let Some(e) = &r.error {
            out.push_str(&format!(
                "| {} | non corrigée : {} | | | | | | |\n",
                r.student,
                e.replace('|', "/")
            ));
            continue;
        }
        let n = |o: Outcome| r.questions.iter().filter(|q| q.outcome == o).count();
        let other = r.questions.len()
            - n(Outcome::Passed)
            - n(Outcome::Failed)
            - n(Outcome::NotDone)
            - n(Outcome::CompileError)
            - n(Outcome::Timeout);
        out.push_str(&format!(
            "| {} | {} / {} | {} | {} | {} | {} | {} | {} |\n",
            r.student,
            points(r.total),
            points(r.max),
            n(Outcome::Passed),
            n(Outcome::Failed),
            n(Outcome::NotDone),
            n(Outcome::CompileError),
            n(Outcome::Timeout),
            other
        ));
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for q in reports.iter().flat_map(|r| &r.questions) {
        if matches!(
            q.outcome,
            Outcome::Passed | Outcome::NotDone | Outcome::Missing
        ) {
            continue;
        }
        *counts.entry(failure_key(q)).or_default() += 1;
    }
    let mut top: Vec<(String, usize)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out.push_str("\n## Échecs les plus fréquents (ce que la classe n'a pas compris)\n\n");
    if top.is_empty() {
        out.push_str("Aucun.\n");
    }
    for (msg, n) in top.iter().take(15) {
        out.push_str(&format!("- {n} × {msg}\n"));
    }
    out
}

/// Writes every output in `dir`; returns the paths written.
pub fn write_all(
    dir: &Path,
    t: &Template,
    reports: &[StudentReport],
    limits: &str,
) -> tp4::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut put = |name: &str, text: String| -> tp4::Result<()> {
        let p = dir.join(name);
        tp4::output::write_text(&p, &text)?;
        written.push(p);
        Ok(())
    };
    put("notes.csv", notes_csv(t, reports))?;
    put("notes.jsonl", notes_jsonl(reports))?;
    put("classe.md", class_summary(t, reports))?;
    for r in reports {
        put(
            &format!("retours/{}.md", safe_name(&r.student)),
            feedback(r, limits),
        )?;
    }
    let chart = pass_rate_chart(reports, pass_rates(t, reports));
    written.extend(chart.save(dir, "reussite")?);
    Ok(written)
}

/// The pass-rate plot: one row per question in notebook order, top to bottom, on a
/// fixed 0–100 % axis, the questions under half the class in a second colour, a thin
/// line where an exercise starts.
pub fn pass_rate_chart(
    reports: &[StudentReport],
    rates: Vec<(String, f64)>,
) -> tp4::plot::HorizontalBarChart {
    let graded = reports.iter().filter(|r| r.error.is_none()).count();
    let exercise = |id: &str| id.split('.').next().unwrap_or("").to_string();
    let separators = (1..rates.len())
        .filter(|&i| exercise(&rates[i].0) != exercise(&rates[i - 1].0))
        .collect();
    tp4::plot::HorizontalBarChart {
        title: format!(
            "Réussite par question ({})",
            tp4::fr::count(graded as u64, "copie corrigée", "copies corrigées")
        ),
        x_label: "réussite (% des copies corrigées)".into(),
        bars: rates,
        max: 100.0,
        unit: "%".into(),
        separators,
        highlight: Some(tp4::plot::Highlight {
            below: 50.0,
            label: "moins de 50 % de réussite".into(),
            other_label: "50 % ou plus".into(),
        }),
    }
}

/// A student name usable as a file name.
pub fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_plot_has_one_row_per_question_and_a_line_per_exercise() {
        let report = |error: Option<&str>| StudentReport {
            student: "x".into(),
            file: "x.ipynb".into(),
            questions: Vec::new(),
            total: 0.0,
            max: 3.0,
            error: error.map(String::from),
        };
        let rates: Vec<(String, f64)> = ["0.1", "0.2", "1.1", "1.10", "2.1", "4.12"]
            .iter()
            .enumerate()
            .map(|(i, q)| (q.to_string(), 20.0 * i as f64))
            .collect();
        let reports = [report(None), report(None), report(Some("vide"))];
        let chart = pass_rate_chart(&reports, rates.clone());
        assert_eq!(chart.bars, rates, "notebook order, top to bottom");
        assert_eq!(chart.separators, vec![2, 4, 5]);
        assert_eq!(chart.max, 100.0);
        assert!(
            chart.title.contains("2 copies corrigées"),
            "{}",
            chart.title
        );
        let svg = chart.to_svg().unwrap();
        for (q, _) in &rates {
            assert_eq!(svg.matches(&format!("\n{q}\n")).count(), 1, "{q}");
        }
    }
}
