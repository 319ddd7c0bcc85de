//! The lab's input data: the two files of `../shared/workloads.md`, generated
//! deterministically (same bytes on every machine) and read back with clear errors.
//!
//! - [`transactions`]: `transactions.csv`, sales rows (W4 groupby, exercises 1, 2, 5);
//! - [`corpus`]: `corpus.txt`, Zipf-distributed pseudo-words (W7 wordcount, exercise 3);
//! - [`chunks`]: splitting a file into byte ranges on line boundaries, so that several
//!   workers (threads, processes, hosts) can each read their own part.
//!
//! Generation streams to disk through a buffered writer into a temporary file that is
//! renamed at the end: memory stays flat whatever the size, and an interrupted run
//! never leaves a truncated file behind.

pub mod chunks;
pub mod corpus;
pub mod samples;
pub mod transactions;
pub mod words;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// File name of the transactions table inside the data directory.
pub const TRANSACTIONS_FILE: &str = "transactions.csv";
/// File name of the text corpus inside the data directory.
pub const CORPUS_FILE: &str = "corpus.txt";

/// Default number of rows of the reference transactions table (workloads.md).
pub const DEFAULT_ROWS: u64 = 1_000_000;
/// Default corpus size in megabytes (10^6 bytes) of the reference corpus.
pub const DEFAULT_CORPUS_MB: u64 = 100;
/// Rows of the small transactions file shipped in `data/`.
pub const SHIPPED_ROWS: u64 = 10_000;
/// Size in megabytes of the small corpus shipped in `data/`.
pub const SHIPPED_CORPUS_MB: u64 = 1;

/// Path of the transactions file in `data_dir`, or a [`Error::MissingData`] that
/// tells how to generate it.
pub fn transactions_path(data_dir: &Path) -> Result<PathBuf> {
    existing(data_dir.join(TRANSACTIONS_FILE))
}

/// Path of the corpus file in `data_dir`, or a [`Error::MissingData`] that tells how
/// to generate it.
pub fn corpus_path(data_dir: &Path) -> Result<PathBuf> {
    existing(data_dir.join(CORPUS_FILE))
}

fn existing(path: PathBuf) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::MissingData { path })
    }
}

/// Refuses sizes that are zero or that the machine cannot hold on disk, before any
/// work starts. `bytes` is the expected size of what `what` names (a file, or several
/// files together); the free space is that of the file system holding `dir`.
pub fn check_output_size(what: &str, bytes: u64, dir: &Path) -> Result<()> {
    if bytes == 0 {
        return Err(Error::InvalidParameter(format!(
            "la taille de {what} doit être strictement positive"
        )));
    }
    // Refuse more than 1 TB outright: it is a typo, not a lab experiment.
    if bytes > 1_000_000_000_000 {
        return Err(Error::InvalidParameter(format!(
            "{what} : {} demandés, plus que le maximum de 1 To : c'est sûrement une faute de \
             frappe (le grand jeu de données du TP fait 100 Mo de texte : --mo 100)",
            crate::fr::bytes(bytes)
        )));
    }
    if let Some(free) = crate::machine::free_disk_bytes(dir) {
        if bytes > free {
            return Err(Error::InvalidParameter(format!(
                "{what} : {} demandés, mais il ne reste que {} libres dans {} : réduisez la taille \
                 ou choisissez un autre dossier avec --data",
                crate::fr::bytes(bytes),
                crate::fr::bytes(free),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Refuses to generate into `dir` when it already holds a data file: `donnees`
/// replaces files only with `--remplacer`, so that the small files shipped in
/// `data/` (and a teacher's own files) are never overwritten by accident.
pub fn refuse_to_replace(dir: &Path) -> Result<()> {
    for name in [TRANSACTIONS_FILE, CORPUS_FILE] {
        let path = dir.join(name);
        if path.exists() {
            return Err(Error::InvalidParameter(format!(
                "{} existe déjà : `donnees` ne remplace pas des fichiers de données sans \
                 l'option --remplacer\n  → pour le grand jeu de données, générez-le dans son \
                 propre dossier : `tp4 --data {} donnees` ; pour remplacer ces fichiers : \
                 `tp4 --data {} donnees --remplacer`",
                path.display(),
                dir.join("grand").display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Refuses a data file's place taken by something else than a file (a folder, a
/// FIFO, a device), before any work: replacing it would fail half way.
fn refuse_non_file_target(target: &Path) -> Result<()> {
    match std::fs::metadata(target) {
        Ok(m) if !m.is_file() => Err(Error::Other(format!(
            "{} existe et n'est pas un fichier ({}) : tp4 ne peut pas le remplacer\n  → \
             renommez-le ou supprimez-le, ou choisissez un autre dossier avec `--data DIR`",
            target.display(),
            if m.is_dir() {
                "c'est un dossier"
            } else {
                "périphérique, tube ou socket"
            }
        ))),
        _ => Ok(()),
    }
}

/// Moves the new files of `pairs` (`(new, target)`) over their targets as a set: the
/// old files are first moved into `staging`; if one move fails, every target moved
/// already gets its old file back, and the error is returned. The old files left in
/// `staging` go with it.
fn replace_both(staging: &Path, pairs: [(&PathBuf, &PathBuf); 2]) -> Result<()> {
    let mut done: Vec<(&PathBuf, Option<PathBuf>)> = Vec::new();
    let undo = |done: &mut Vec<(&PathBuf, Option<PathBuf>)>| {
        for (target, old) in done.drain(..).rev() {
            match old {
                Some(old) => {
                    let _ = std::fs::rename(old, target);
                }
                None => {
                    let _ = std::fs::remove_file(target);
                }
            }
        }
    };
    for (i, (new, target)) in pairs.into_iter().enumerate() {
        let old = staging.join(format!("ancien-{i}"));
        let had_old = match std::fs::rename(target, &old) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                undo(&mut done);
                return Err(Error::io("écriture de", target, e));
            }
        };
        if let Err(e) = std::fs::rename(new, target) {
            if had_old {
                let _ = std::fs::rename(&old, target);
            }
            undo(&mut done);
            return Err(Error::io("écriture de", target, e));
        }
        done.push((target, had_old.then_some(old)));
    }
    Ok(())
}

/// Generates both data files into `dir` (transactions of `rows` rows, corpus of
/// `megabytes` MB), with progress bars when `progress` is true. Sizes are checked
/// before any work; each file is written atomically.
pub fn generate_files(
    dir: &Path,
    rows: u64,
    megabytes: u64,
    progress: bool,
) -> Result<Vec<PathBuf>> {
    if rows == 0 || megabytes == 0 {
        return Err(Error::InvalidParameter(
            "--lignes et --mo doivent être strictement positifs (exemple : --lignes 10000 --mo 1)"
                .into(),
        ));
    }
    if rows > 10_000_000_000 || megabytes > 1_000_000 {
        return Err(Error::InvalidParameter(format!(
            "taille absurde : {rows} lignes, {megabytes} Mo (maximum 10^10 lignes et 10^6 Mo)"
        )));
    }
    crate::output::ensure_writable_dir(dir)?;
    let (t_bytes, c_bytes) = (transactions::estimated_bytes(rows), megabytes * 1_000_000);
    check_output_size("transactions.csv", t_bytes, dir)?;
    check_output_size("corpus.txt", c_bytes, dir)?;
    check_output_size(
        "transactions.csv et corpus.txt ensemble",
        t_bytes + c_bytes,
        dir,
    )?;

    let (t_path, c_path) = (dir.join(TRANSACTIONS_FILE), dir.join(CORPUS_FILE));
    for target in [&t_path, &c_path] {
        refuse_non_file_target(target)?;
    }

    // Both files are generated into a staging folder (removed on every path, see
    // `ScratchDir`), then moved in as a set: an interrupted or failed run leaves
    // the old data set whole, never a new file beside an old one.
    let staging = crate::output::ScratchDir::new(dir, "donnees")?;
    let new_t = staging.path().join(TRANSACTIONS_FILE);
    let bar = if progress {
        crate::progress::steps(rows, "transactions.csv (lignes)")
    } else {
        crate::progress::hidden()
    };
    transactions::generate(&new_t, rows, |n| bar.set_position(n))?;
    bar.finish_and_clear();

    let new_c = staging.path().join(CORPUS_FILE);
    let bar = if progress {
        crate::progress::bytes(megabytes * 1_000_000, "corpus.txt")
    } else {
        crate::progress::hidden()
    };
    corpus::generate(&new_c, megabytes, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    replace_both(staging.path(), [(&new_t, &t_path), (&new_c, &c_path)])?;
    if progress {
        for p in [&t_path, &c_path] {
            let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            println!(
                "écrit : {} ({})",
                p.display(),
                crate::alloc::human_bytes(size)
            );
        }
    }
    Ok(vec![t_path, c_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files shipped in `data/` are exactly what the generator writes at their
    /// sizes: anyone can regenerate them, and nobody edited them by hand.
    #[test]
    fn shipped_files_are_regenerated_byte_for_byte() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let dir = tempfile::tempdir().unwrap();
        generate_files(dir.path(), SHIPPED_ROWS, SHIPPED_CORPUS_MB, false).unwrap();
        for name in [TRANSACTIONS_FILE, CORPUS_FILE] {
            let a = std::fs::read(shipped.join(name)).unwrap();
            let b = std::fs::read(dir.path().join(name)).unwrap();
            assert!(a == b, "{name} differs from what `tp4 donnees` generates");
        }
    }

    /// Finding 8 of issue 24: `donnees --remplacer` replaces both files or none,
    /// and leaves no staging folder on any path.
    #[test]
    fn the_two_files_are_replaced_as_a_set_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join(TRANSACTIONS_FILE);
        std::fs::write(&t, "ancien").unwrap();
        std::fs::create_dir(dir.path().join(CORPUS_FILE)).unwrap();
        let err = generate_files(dir.path(), 100, 1, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("corpus.txt") && err.contains("dossier"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "ancien");
        let names = |d: &Path| -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(dir.path()), [CORPUS_FILE, TRANSACTIONS_FILE]);

        // A move that fails half way puts the first file back.
        let staging = dir.path().join("st");
        std::fs::create_dir(&staging).unwrap();
        let (new_t, new_c) = (staging.join("t"), staging.join("c-absent"));
        std::fs::write(&new_t, "nouveau").unwrap();
        let c = dir.path().join("autre.txt");
        std::fs::write(&c, "ancien corpus").unwrap();
        assert!(replace_both(&staging, [(&new_t, &t), (&new_c, &c)]).is_err());
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "ancien");
        assert_eq!(std::fs::read_to_string(&c).unwrap(), "ancien corpus");
        // Both present: both replaced.
        std::fs::write(&new_t, "nouveau").unwrap();
        std::fs::write(&new_c, "nouveau corpus").unwrap();
        replace_both(&staging, [(&new_t, &t), (&new_c, &c)]).unwrap();
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "nouveau");
        assert_eq!(std::fs::read_to_string(&c).unwrap(), "nouveau corpus");
    }

    #[test]
    fn zero_and_absurd_sizes_are_refused_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        for (rows, mb) in [(0, 1), (10, 0), (u64::MAX, 1), (10, u64::MAX / 2)] {
            let err = generate_files(dir.path(), rows, mb, false).unwrap_err();
            assert!(matches!(err, Error::InvalidParameter(_)), "{err}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
