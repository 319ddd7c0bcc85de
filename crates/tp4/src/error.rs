//! The lab's error type, whose messages are written for a student: each one says
//! what went wrong, where (file, line, field or value) and how to fix it.
//!
//! Every fallible function of the library returns [`Result`], so that the CLI and
//! the notebook can print the message as it is, without a panic trace.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in the lab, with a French message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A data file the lab needs is missing. The advice depends on whether its
    /// folder exists: a missing folder usually means `tp4` was started from another
    /// folder than the repository's root (the shipped data lives in `data/` there).
    #[error("{}", missing_data_text(.path))]
    MissingData {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// A row of a data file does not follow its format.
    #[error("{path}, ligne {line}, champ « {field} » : {message}", path = .path.display())]
    Malformed {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// Name of the faulty field (or "ligne" for the whole row).
        field: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// An input/output operation failed on a file or directory.
    #[error("{action} {path} : {reason}", path = .path.display(), reason = french_io(.source))]
    Io {
        /// What the lab was doing, in French ("lecture de", "écriture de"...).
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A parameter (a size, a worker count...) is out of its sensible range.
    #[error("paramètre invalide : {0}")]
    InvalidParameter(String),
    /// A computation returned an answer that differs from the expected one.
    #[error("réponse fausse pour {what} : attendu {expected}, obtenu {got}")]
    WrongAnswer {
        /// The workload or question.
        what: String,
        /// The expected answer.
        expected: String,
        /// The answer obtained.
        got: String,
    },
    /// A file read in place (memory-mapped) changed while it was read: shortened
    /// (the pages past its new end read as zeros) or rewritten. The answer computed
    /// from it is meaningless; `docs/fichiers-projetes.md` says what the mapped
    /// readers assume of their input.
    #[error(
        "le fichier {path} a changé pendant la lecture ({how}) : relancez quand il ne \
         change plus\n  → tp4 lit ce fichier en place (projeté en mémoire) et suppose que \
         personne ne l'écrit pendant le calcul (voir docs/fichiers-projetes.md)",
        path = .path.display()
    )]
    FileChanged {
        /// The file read.
        path: PathBuf,
        /// What changed, in French ("tronqué", "taille ou date modifiée").
        how: String,
    },
    /// `tp4 bench` measured every case, and some gave a wrong answer or failed:
    /// each was reported as it happened; the files hold every measurement made.
    #[error(
        "banc d'essai : {n} échec(s), détaillé(s) plus haut — {list}\n  → {files}",
        n = .failures.len(),
        list = .failures.join(" ; "),
        files = bench_files_note(.files)
    )]
    BenchFailed {
        /// One short French line per failed case (the case and what failed).
        failures: Vec<String>,
        /// The files written (CSV, JSON lines, plots).
        files: Vec<PathBuf>,
    },
    /// The output path exists and is a file, not a folder.
    #[error(
        "le chemin de sortie {path} est un fichier, pas un dossier\n  → choisissez un dossier \
         avec `--output DIR` (par exemple `--output output`), ou renommez ce fichier",
        path = .path.display()
    )]
    OutputIsFile {
        /// The path given as output folder.
        path: PathBuf,
    },
    /// The output directory cannot be written.
    #[error(
        "le dossier de sortie {path} n'est pas accessible en écriture : {reason}\n  → \
         vérifiez ses droits (`ls -ld {path}`) ; dans Docker, lancez le conteneur avec \
         `-u $(id -u):$(id -g)` ou choisissez un autre dossier avec `--output DIR`",
        path = .path.display()
    )]
    OutputNotWritable {
        /// The output directory.
        path: PathBuf,
        /// Why it cannot be written.
        reason: String,
    },
    /// A worker process (of `tp4` or of the cluster) could not be started, failed,
    /// was too slow or answered something unreadable. The message already names the
    /// process and says what to do.
    #[error("{0}")]
    Process(String),
    /// A network connection between the cluster's processes failed (listen,
    /// connect, handshake). The message names the process, the address and the fix.
    #[error("{0}")]
    Network(String),
    /// Anything else, already phrased in French.
    #[error("{0}")]
    Other(String),
}

/// An I/O error in French, for the common kinds (the OS gives English text).
pub fn french_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    let what = match e.kind() {
        NotFound => "fichier ou dossier introuvable",
        PermissionDenied => "permission refusée",
        NotADirectory => "un élément du chemin n'est pas un dossier",
        IsADirectory => "c'est un dossier, pas un fichier",
        AlreadyExists => "existe déjà",
        StorageFull => "disque plein",
        ReadOnlyFilesystem => "système de fichiers en lecture seule",
        InvalidData => "données invalides (pas de l'UTF-8 ?)",
        UnexpectedEof => "fin de fichier inattendue (fichier tronqué ?)",
        BrokenPipe => "tube fermé par l'autre côté",
        OutOfMemory => "mémoire insuffisante",
        _ => return e.to_string(),
    };
    format!("{what} ({e})")
}

/// The message of a panic payload (`panic!("…")` gives a `&str` or a `String`): the
/// one place that reads it, for the checkers' panic capture and the CLI's hooks.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panique sans message".into())
}

/// What to do about a missing data file: regenerate the small shipped files in an
/// existing folder, or start from the repository's root (or name the folder with
/// `--data`) when the folder itself is missing.
/// The message of [`Error::MissingData`]: what is at the path decides it. A
/// folder, a FIFO or a device where the file should be is not "missing" (and
/// generating data would not help); a `--data` that names a file is not a folder
/// that "does not exist".
fn missing_data_text(path: &Path) -> String {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(m) = std::fs::metadata(path) {
        if !m.is_file() {
            let what = if m.is_dir() {
                "c'est un dossier"
            } else {
                "c'est un tube, un périphérique ou une socket"
            };
            return format!(
                "le fichier de données {} n'est pas un fichier ordinaire ({what})\n  → tp4 lit \
                 un fichier texte à cet endroit : remplacez-le par le fichier de données, ou \
                 indiquez un autre dossier avec `--data DIR`",
                path.display()
            );
        }
    }
    if dir.exists() && !dir.is_dir() {
        return format!(
            "--data {d} est un fichier, pas un dossier\n  → --data attend le dossier qui \
             contient transactions.csv et corpus.txt (par exemple `--data data`)",
            d = dir.display()
        );
    }
    format!(
        "fichier de données introuvable : {}\n  → {}",
        path.display(),
        missing_data_advice(path)
    )
}

fn missing_data_advice(path: &Path) -> String {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.is_dir() {
        format!(
            "générez les petits fichiers du dépôt avec `tp4 --data {d} donnees --lignes 10000 --mo 1` \
             (ou `cargo run --release -- --data {d} donnees --lignes 10000 --mo 1`)",
            d = dir.display()
        )
    } else {
        let here = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| "?".into());
        format!(
            "le dossier {d} n'existe pas ici ({here}) : les données du TP sont dans le dossier \
             data/ à la racine du dépôt tp4 ; lancez tp4 depuis cette racine, ou indiquez le \
             dossier avec `--data /chemin/vers/tp4/data`",
            d = dir.display()
        )
    }
}

/// The result type of the lab's fallible functions.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error with the action and the path it concerns.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound && action == "lecture de" {
            return Error::MissingData {
                path: path.to_path_buf(),
            };
        }
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Lets `?` turn an I/O error into the lab's error, so that a student's function
/// returning [`Result`] can write `Command::new(..).spawn()?` and `child.wait()?`
/// (question 4.7). The path is unknown here: the message says what failed, in
/// French, and the library's own code keeps using [`Error::io`] to name the file.
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Process(format!(
            "opération système impossible (lancement ou attente d'un processus, lecture ou \
             écriture) : {}",
            french_io(&e)
        ))
    }
}

/// Where the measurements of a failed `tp4 bench` are, in French: the files, or that
/// no measurement could be written (every case failed before one was made).
fn bench_files_note(files: &[PathBuf]) -> String {
    if files.is_empty() {
        return "aucune mesure n'a abouti : aucun fichier de résultats n'a été écrit".into();
    }
    let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    format!(
        "les mesures faites sont dans {} (une réponse fausse y a « ok » à false)",
        list.join(", ")
    )
}

#[cfg(test)]
mod from_io_tests {
    use super::*;

    fn child_pid() -> Result<u32> {
        let mut child = std::process::Command::new("true").spawn()?;
        child.wait()?;
        Ok(child.id())
    }

    fn missing_program() -> Result<u32> {
        let child = std::process::Command::new("/nonexistent/tp4-no-such-program").spawn()?;
        Ok(child.id())
    }

    #[test]
    fn question_mark_on_spawn_and_wait_compiles_and_works() {
        assert!(child_pid().expect("true runs") > 0);
        let e = missing_program().unwrap_err();
        assert!(matches!(e, Error::Process(_)), "{e:?}");
        assert!(e.to_string().contains("introuvable"), "{e}");
    }
}
