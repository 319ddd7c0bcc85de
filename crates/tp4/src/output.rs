//! Writing results: atomic file writes, CSV and JSON lines, terminal tables and the
//! Markdown report.
//!
//! Every file the lab writes goes through [`write_atomic`]: the content goes to a
//! temporary file in the same directory, which is renamed over the target only once
//! complete. A run interrupted by Ctrl-C or a crash therefore leaves either the old
//! file or the new one, never a truncated one.

use crate::error::{Error, Result};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written, removed by the interrupt handler.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Registers a temporary file or folder for removal on interrupt while alive.
pub struct Pending(PathBuf);

impl Pending {
    /// Registers `path` until the guard is dropped.
    pub fn new(path: &Path) -> Pending {
        if let Ok(mut v) = PENDING.lock() {
            v.push(path.to_path_buf());
        }
        Pending(path.to_path_buf())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Ok(mut v) = PENDING.lock() {
            v.retain(|p| p != &self.0);
        }
    }
}

/// A hidden scratch folder `.tp4-<what>-<pid>.tmp` inside a folder of the lab:
/// removed when dropped (success, error or panic), by the interrupt handler on
/// Ctrl-C/SIGTERM, and at a later run if the process was killed (the name says
/// whose it is). Unlike a folder in `/tmp`, nothing stays behind on any path.
pub struct ScratchDir {
    dir: PathBuf,
    _pending: Pending,
}

impl ScratchDir {
    /// Creates `<parent>/.tp4-<what>-<pid>.tmp` (and `parent` if needed).
    pub fn new(parent: &Path, what: &str) -> Result<ScratchDir> {
        let dir = parent.join(format!(".tp4-{what}-{}.tmp", std::process::id()));
        let scratch = ScratchDir {
            _pending: Pending::new(&dir),
            dir,
        };
        std::fs::create_dir_all(&scratch.dir)
            .map_err(|e| Error::io("création du dossier", &scratch.dir, e))?;
        Ok(scratch)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Makes SIGINT, SIGTERM and SIGHUP remove the temporary files being written before
/// the process ends (with the shell's status 128 + signal): an interrupted run or
/// `donnees` leaves no hidden `.tp4-*.tmp` behind. Call once at start-up, before any
/// other thread: the signals are blocked in every thread and one thread waits for
/// them. Workers started later get a clean signal mask (the standard library resets
/// it) and die with their parent (`PR_SET_PDEATHSIG`).
#[cfg(unix)]
pub fn remove_temp_files_on_interrupt() {
    // SAFETY: plain libc calls on a local signal set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return;
        }
        std::thread::spawn(move || {
            let mut sig: libc::c_int = 0;
            if libc::sigwait(&set, &mut sig) == 0 {
                run_exit_hooks();
                remove_pending_now();
                std::process::exit(128 + sig);
            }
        });
    }
}

/// Removes a file or a folder with its content, ignoring errors.
fn remove_any(p: &Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

/// Whether a temporary name `.tp4-<what>-<pid>.tmp` belongs to a process still
/// running (its pid is alive): such a file is another run's work in progress.
fn owner_alive(name: &str) -> bool {
    let pid = name
        .strip_suffix(".tmp")
        .and_then(|n| n.rsplit('-').next())
        .and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) if pid != std::process::id() => Path::new(&format!("/proc/{pid}")).exists(),
        _ => false,
    }
}

/// Removes the `.tp4-*.tmp` files and folders of `dirs` left by a run killed without warning
/// (SIGKILL, power cut): those not modified for a minute before this run started, and
/// not named after a process still running (the staging folder of a long run).
pub fn remove_stale_temp_files(dirs: &[&Path]) {
    let limit = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < limit);
            if name.starts_with(".tp4-") && name.ends_with(".tmp") && old && !owner_alive(&name) {
                remove_any(&e.path());
            }
        }
    }
}

/// Writes a file atomically: `fill` writes into a buffered temporary file next to
/// `path`, which replaces `path` only if `fill` succeeds.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("création du dossier", &dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tp4-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| Error::io("écriture de", path, e))?;
    let _pending = Pending::new(tmp.path());
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        fill(&mut w).map_err(|e| Error::io("écriture de", path, e))?;
        w.flush().map_err(|e| Error::io("écriture de", path, e))?;
    }
    // Temporary files are private (0600); the result is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io("écriture de", path, e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("écriture de", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("écriture de", path, e.error))?;
    Ok(())
}

/// Writes `text` to `path` atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |w| w.write_all(text.as_bytes()))
}

/// Writes serialisable rows as a CSV file with a header, atomically.
pub fn write_csv<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        for row in rows {
            csv.serialize(row).map_err(std::io::Error::other)?;
        }
        csv.flush()
    })
}

/// Writes serialisable rows as JSON lines (one object per line), atomically.
pub fn write_json_lines<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    write_atomic(path, |w| {
        for row in rows {
            serde_json::to_writer(&mut *w, row).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Checks, before a run starts, that `dir` exists (creating it) and can be written.
pub fn ensure_writable_dir(dir: &Path) -> Result<()> {
    let refused = |e: std::io::Error| Error::OutputNotWritable {
        path: dir.to_path_buf(),
        reason: crate::error::french_io(&e),
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Error::OutputIsFile {
            path: dir.to_path_buf(),
        });
    }
    if let (Ok(link), false) = (std::fs::read_link(dir), dir.exists()) {
        // A symbolic link to nothing: `create_dir_all` would say "exists".
        return Err(Error::Other(format!(
            "le dossier {} est un lien symbolique vers {}, qui n'existe pas\n  → créez ce \
             dossier (`mkdir -p {}`), supprimez le lien, ou choisissez un autre dossier",
            dir.display(),
            link.display(),
            link.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(refused)?;
    tempfile::Builder::new()
        .prefix(".tp4-test-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(refused)
}

/// The columns after the first `text_columns`: the numbers of most tables.
fn numbers_after(text_columns: usize, len: usize) -> Vec<usize> {
    (text_columns..len).collect()
}

/// A terminal table with French headers (rendered with `comfy-table`); the first
/// `text_columns` columns are left-aligned, the others (numbers) right-aligned.
pub fn table(headers: &[&str], text_columns: usize, rows: Vec<Vec<String>>) -> String {
    table_numbers(headers, &numbers_after(text_columns, headers.len()), rows)
}

/// A terminal table whose columns `numbers` are right-aligned, the others (text)
/// left-aligned: for tables where text comes after the numbers.
///
/// The table fits the terminal's width ([`TABLE_WIDTH`] columns when the output is
/// not a terminal): long text columns wrap inside their cells, the number columns
/// keep their width.
pub fn table_numbers(headers: &[&str], numbers: &[usize], rows: Vec<Vec<String>>) -> String {
    let width = comfy_table::Table::new().width().unwrap_or(TABLE_WIDTH);
    table_numbers_width(headers, numbers, rows, width)
}

/// The width of the terminal tables when the output is not a terminal (a file, a
/// pipe, the notebook).
pub const TABLE_WIDTH: u16 = 100;

/// [`table_numbers`] at a given width (in terminal columns), whatever the output:
/// the text columns wrap inside their cells, the columns `numbers` are right-aligned
/// and never wrapped.
pub fn table_numbers_width(
    headers: &[&str],
    numbers: &[usize],
    rows: Vec<Vec<String>>,
    width: u16,
) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_header(headers.iter().copied())
        .set_width(width);
    for row in rows {
        t.add_row(row);
    }
    for &i in numbers {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(comfy_table::CellAlignment::Right);
            col.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
    t.to_string()
}

/// A Markdown table (for `rapport.md`); the first `text_columns` columns are
/// left-aligned, the others right-aligned.
pub fn markdown_table(headers: &[&str], text_columns: usize, rows: &[Vec<String>]) -> String {
    markdown_table_numbers(headers, &numbers_after(text_columns, headers.len()), rows)
}

/// A Markdown table whose columns `numbers` are right-aligned, the others
/// left-aligned.
pub fn markdown_table_numbers(headers: &[&str], numbers: &[usize], rows: &[Vec<String>]) -> String {
    let mut s = format!("| {} |\n|", headers.join(" | "));
    for i in 0..headers.len() {
        s.push_str(if numbers.contains(&i) {
            "---:|"
        } else {
            "---|"
        });
    }
    s.push('\n');
    for row in rows {
        s.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    s
}

/// One part of the lab's report: what a demonstration printed, measured and wrote.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// Title of the part (French).
    pub title: String,
    /// Markdown body (French): explanations, tables, figures.
    pub markdown: String,
    /// Files written in the output directory (relative names), plots included.
    pub files: Vec<PathBuf>,
}

impl Section {
    /// A new, empty section with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Section {
            title: title.into(),
            ..Default::default()
        }
    }

    /// Appends a paragraph of Markdown.
    pub fn text(&mut self, md: impl AsRef<str>) {
        self.markdown.push_str(md.as_ref());
        self.markdown.push_str("\n\n");
    }

    /// Records a file written by the demonstration (path relative to the output dir
    /// or absolute).
    pub fn file(&mut self, path: impl Into<PathBuf>) {
        self.files.push(path.into());
    }

    /// Prints a paragraph on the terminal and appends it to the report: what the
    /// student reads in both places comes from one call.
    pub fn say(&mut self, text: impl AsRef<str>) {
        // The terminal shows the text without Markdown's bold markers.
        println!("{}\n", text.as_ref().replace("**", ""));
        self.text(text);
    }

    /// Prints a table on the terminal (with its caption) and appends the same table
    /// to the report as Markdown. `text_columns` leading columns are left-aligned.
    pub fn table(
        &mut self,
        caption: &str,
        headers: &[&str],
        text_columns: usize,
        rows: Vec<Vec<String>>,
    ) {
        self.table_numbers(
            caption,
            headers,
            &numbers_after(text_columns, headers.len()),
            rows,
        );
    }

    /// [`Section::table`] for a table whose columns `numbers` are right-aligned and
    /// the others, before or after them, left-aligned.
    pub fn table_numbers(
        &mut self,
        caption: &str,
        headers: &[&str],
        numbers: &[usize],
        rows: Vec<Vec<String>>,
    ) {
        if !caption.is_empty() {
            println!("{caption}");
            self.text(format!("**{caption}**"));
        }
        let md = markdown_table_numbers(headers, numbers, &rows);
        println!("{}", table_numbers(headers, numbers, rows));
        self.text(md);
    }

    /// Embeds an image (a plot) in the Markdown, by its file name in the output dir.
    pub fn image(&mut self, alt: &str, file_name: &str) {
        self.text(format!("![{alt}]({file_name})"));
    }

    /// Says a note (e.g. the reliability note of a measurement) when there is one:
    /// an empty note prints nothing.
    pub fn say_note(&mut self, note: &str) {
        if !note.is_empty() {
            self.say(note);
        }
    }

    /// Records written files by their names (the section's files are relative to the
    /// output directory).
    pub fn add_files(&mut self, files: Vec<PathBuf>) {
        for f in files.iter().filter_map(|f| f.file_name()) {
            self.file(f);
        }
    }
}

/// Gathers sections into `rapport.md`, atomically.
pub fn write_report(path: &Path, title: &str, preamble: &str, sections: &[Section]) -> Result<()> {
    let mut md = format!("# {title}\n\n{preamble}\n\n");
    for s in sections {
        md.push_str(&format!("## {}\n\n{}", s.title, s.markdown));
        if !s.files.is_empty() {
            md.push_str("Fichiers : ");
            let names: Vec<String> = s
                .files
                .iter()
                .map(|f| {
                    let name = f.file_name().map(|n| n.to_string_lossy().to_string());
                    let name = name.unwrap_or_else(|| f.display().to_string());
                    format!("[`{name}`]({name})")
                })
                .collect();
            md.push_str(&names.join(", "));
            md.push_str("\n\n");
        }
    }
    write_text(path, &md)
}

/// `value` with every string longer than `max` characters cut for display
/// ([`crate::fr::cut`], which says how long it was), object keys included: the
/// answer of a JSON line stays proportionate to what it reports (ten words, three
/// cities), never to the size of one word of the input.
pub fn cut_json_strings(value: &serde_json::Value, max: usize) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(crate::fr::cut(s, max)),
        Value::Array(a) => Value::Array(a.iter().map(|v| cut_json_strings(v, max)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (crate::fr::cut(k, max), cut_json_strings(v, max)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Reads a small text file the program takes as configuration (a hostfile, a lock
/// file, a saved profile), refusing before reading it whole what cannot be one:
/// anything but a regular file (a device such as `/dev/zero` or `/dev/urandom`, a
/// FIFO, a folder) and a file of more than `max` bytes. `what` names the file in the
/// French message ("le fichier d'hôtes"). Reading is bounded: at most `max + 1`
/// bytes are read, whatever the file does meanwhile.
pub fn read_small_file(path: &Path, max: u64, what: &str) -> Result<String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| Error::io("lecture de", path, e))?;
    if !meta.is_file() {
        return Err(Error::Other(format!(
            "{what} {} n'est pas un fichier ordinaire ({}) : donnez le chemin d'un fichier texte",
            path.display(),
            if meta.is_dir() {
                "c'est un dossier"
            } else {
                "périphérique, tube ou socket"
            }
        )));
    }
    let too_big = || {
        Error::Other(format!(
            "{what} {} est trop gros (plus de {}) : ce n'est sans doute pas le bon fichier",
            path.display(),
            crate::fr::bytes(max)
        ))
    };
    if meta.len() > max {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::io("lecture de", path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::Other(format!(
            "{what} {} n'est pas du texte UTF-8 : donnez le chemin d'un fichier texte",
            path.display()
        ))
    })
}

/// The lock file of an output folder, held by the run writing into it.
pub const LOCK_FILE: &str = ".tp4-verrou";

/// A lock on an output folder: a file created exclusively, holding the pid, the
/// start time and the program of the run that holds it ([`LockHolder`]), removed
/// when dropped, on interrupt and when stdout closes. Two runs writing into one
/// folder would mix their files; the second one stops with a message naming the
/// first. Every command that writes into the output folder takes it (the main job,
/// `bench`, `exercice N`, `cluster …`).
pub struct DirLock {
    path: PathBuf,
    _pending: Pending,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Who holds a lock, as written in the lock file: `pid start program`, the start
/// time being the process's start in clock ticks since boot (`/proc/PID/stat`,
/// field 22). A pid alone proves nothing: once its process ended, the pid is given
/// to another one (after a reboot, pid 1 is always alive). The pair (pid, start
/// time) names one process for the life of the machine.
#[derive(Debug, Clone, PartialEq)]
pub struct LockHolder {
    /// The process id.
    pub pid: u32,
    /// Its start time in clock ticks since boot.
    pub start: u64,
    /// The program's file name (`tp4`), for the message.
    pub program: String,
}

impl LockHolder {
    /// This process.
    pub fn me() -> LockHolder {
        let pid = std::process::id();
        LockHolder {
            pid,
            start: start_time(pid).unwrap_or(0),
            program: std::env::current_exe()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "tp4".into()),
        }
    }

    /// The line written into the lock file.
    pub fn line(&self) -> String {
        format!("{} {} {}\n", self.pid, self.start, self.program)
    }

    /// Reads a lock file's content; `None` for anything else than a line written by
    /// [`LockHolder::line`] (an older lock holding a bare pid, a half-written or
    /// foreign file): such a lock is stale.
    pub fn parse(text: &str) -> Option<LockHolder> {
        let mut it = text.trim().splitn(3, ' ');
        let pid = it.next()?.parse().ok()?;
        let start = it.next()?.parse().ok()?;
        let program = it.next()?.trim().to_string();
        (!program.is_empty()).then_some(LockHolder {
            pid,
            start,
            program,
        })
    }

    /// Whether the process that wrote this line still runs: its pid is alive with
    /// the same start time (so it is that very process, not a later one given the
    /// same pid).
    pub fn alive(&self) -> bool {
        self.start != 0 && start_time(self.pid) == Some(self.start)
    }
}

/// A process's start time in clock ticks since boot (`/proc/PID/stat`, field 22);
/// `None` if it does not run (or where `/proc` is missing).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Takes the lock of `dir` (created if needed). A lock whose holder no longer runs
/// ([`LockHolder::alive`]: same pid *and* same start time), or that holds anything
/// else, is stale and taken over; one held by a live run is a French error naming
/// it (pid and program), with advice that can only name that run.
pub fn lock_dir(dir: &Path) -> Result<DirLock> {
    ensure_writable_dir(dir)?;
    let path = dir.join(LOCK_FILE);
    for _ in 0..3 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let _pending = Pending::new(&path);
                let lock = DirLock { path, _pending };
                f.write_all(LockHolder::me().line().as_bytes())
                    .map_err(|e| Error::io("écriture de", &lock.path, e))?;
                return Ok(lock);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = read_small_file(&path, 4096, "le verrou").unwrap_or_default();
                match LockHolder::parse(&text).filter(LockHolder::alive) {
                    Some(h) => {
                        return Err(Error::Other(format!(
                            "le dossier de sortie {} est déjà utilisé par un autre lancement \
                             de tp4 (pid {}, programme {}) : deux lancements mélangeraient \
                             leurs résultats\n  → attendez sa fin, arrêtez-le (`kill {}`) ou \
                             choisissez un autre dossier avec `--output DIR`",
                            dir.display(),
                            h.pid,
                            h.program,
                            h.pid
                        )));
                    }
                    None => {
                        // Left by a run that ended, half written, or not a lock of
                        // this program: a file being written right now is given a
                        // moment (its writer fills it just after creating it).
                        if text.is_empty() {
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            let again =
                                read_small_file(&path, 4096, "le verrou").unwrap_or_default();
                            if LockHolder::parse(&again).is_some_and(|h| h.alive()) {
                                continue;
                            }
                        }
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            Err(e) => return Err(Error::io("écriture de", &path, e)),
        }
    }
    Err(Error::Other(format!(
        "impossible de prendre le verrou {} : un autre lancement de tp4 le prend en même \
         temps ; réessayez",
        path.display()
    )))
}

/// What must run before an exit that runs no destructor (an interrupt, a closed
/// stdout): registered by the layers above (the process supervisor kills its
/// children's process groups), so that this module imports none of them.
static EXIT_HOOKS: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

/// Registers `hook` (once, however many times it is given) to run before an exit
/// that runs no destructor ([`remove_temp_files_on_interrupt`],
/// [`quiet_on_closed_stdout`]).
pub fn run_before_abrupt_exit(hook: fn()) {
    if let Ok(mut hooks) = EXIT_HOOKS.lock() {
        if !hooks.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
            hooks.push(hook);
        }
    }
}

/// Runs the hooks of [`run_before_abrupt_exit`].
fn run_exit_hooks() {
    if let Ok(hooks) = EXIT_HOOKS.lock() {
        for h in hooks.iter() {
            h();
        }
    }
}

/// Removes every registered temporary file and folder (and lock) now: for the exits
/// that run no destructor (`std::process::exit`).
pub fn remove_pending_now() {
    if let Ok(v) = PENDING.lock() {
        remove_while_written(&v);
    }
}

/// Removes every path of `paths` even while other threads of the process still
/// write into them: on Ctrl-C the main thread keeps running until `exit`, and a file
/// it created in a scratch folder between the listing and the `rmdir` of
/// `remove_dir_all` made that folder survive (seen under load in the hardening test
/// of exercise 7). A folder is first renamed out of the writers' way (in one step:
/// from then on, creating a file under its old path fails), then removed; a folder
/// made again under the old path is taken in the next pass. Bounded (about 200 ms)
/// so that an interrupt never hangs.
fn remove_while_written(paths: &[PathBuf]) {
    for _ in 0..200 {
        for p in paths {
            if p.is_dir() {
                let aside = aside_name(p);
                if std::fs::rename(p, &aside).is_ok() {
                    remove_any(&aside);
                    continue;
                }
            }
            remove_any(p);
        }
        if paths.iter().all(|p| std::fs::symlink_metadata(p).is_err()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Where [`remove_while_written`] moves a folder before removing it:
/// `.tp4-<what>-<pid>.tmp` becomes `.tp4-efface-<what>-<pid>.tmp`, a name the
/// sweep of a later run still recognises (prefix, suffix and pid kept) should the
/// process die before the removal ends.
fn aside_name(p: &Path) -> PathBuf {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rest = name.strip_prefix(".tp4-").unwrap_or(&name);
    p.with_file_name(format!(".tp4-efface-{rest}"))
}

/// Makes a closed stdout (`tp4 | head -2`) end the run quietly instead of with an
/// English panic: `println!` panics on a broken pipe, so a hook installed once at
/// start-up (before any other, which then forward to it) recognises that panic and
/// exits with code 141, the status a shell shows for a pipeline reader that left,
/// printing nothing, after removing its lock and temporary files
/// ([`remove_pending_now`]). Other panics go to the previous hook unchanged. Ignoring SIGPIPE
/// stays the rule (restoring it would kill the lab when a worker closes its stdin).
pub fn quiet_on_closed_stdout() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = crate::error::panic_message(info.payload());
        if text.contains("failed printing to stdout") && text.contains("Broken pipe") {
            // `exit` runs no destructor: the lock and the staging folder go here.
            run_exit_hooks();
            remove_pending_now();
            std::process::exit(141);
        }
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    #[test]
    fn tables_wrap_their_text_columns_to_the_width() {
        // Drawn tables: long French words and sentences, numbers, several widths.
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
        let words = [
            "échelle",
            "barreau",
            "accélération",
            "mémoire",
            "vectorielles",
            "d'instructions",
            "x",
        ];
        for _ in 0..40 {
            let width = rng.random_range(60..=160u16);
            let text_cells = rng.random_range(1..=3usize);
            let mut headers = vec!["barreau", "médiane"];
            headers.extend(
                ["ce qui change", "pourquoi", "niveau"]
                    .iter()
                    .take(text_cells),
            );
            let rows: Vec<Vec<String>> = (0..rng.random_range(1..6))
                .map(|_| {
                    let mut row = vec![words[rng.random_range(0..words.len())].to_string()];
                    row.push(format!(
                        "{},{} ms",
                        rng.random_range(0..100_000),
                        rng.random_range(0..10)
                    ));
                    for _ in 0..text_cells {
                        let n = rng.random_range(0..60);
                        let cell: Vec<&str> = (0..n)
                            .map(|_| words[rng.random_range(0..words.len())])
                            .collect();
                        row.push(cell.join(" "));
                    }
                    row
                })
                .collect();
            // Nothing is lost: the table holds every visible character of the headers
            // and cells (box drawing and spaces aside), long words cut across lines.
            let visible = |t: &str| -> usize {
                t.chars()
                    .filter(|c| !c.is_whitespace() && !('\u{2500}'..='\u{257f}').contains(c))
                    .count()
            };
            let cells: usize = headers.iter().map(|h| visible(h)).sum::<usize>()
                + rows.iter().flatten().map(|c| visible(c)).sum::<usize>();
            let t = table_numbers_width(&headers, &[1], rows.clone(), width);
            for line in t.lines() {
                assert!(
                    line.chars().count() <= width as usize,
                    "width {width}:\n{t}"
                );
            }
            assert_eq!(visible(&t), cells, "width {width}:\n{t}");
            // The numbers are not wrapped.
            for r in &rows {
                assert!(t.contains(&r[1]), "{}:\n{t}", r[1]);
            }
        }
        // Not a terminal (the tests' stdout): the default width.
        let long = vec![vec!["a".repeat(10), "1".into(), "mot ".repeat(100)]];
        for line in table_numbers(&["a", "b", "c"], &[1], long).lines() {
            assert!(line.chars().count() <= TABLE_WIDTH as usize, "{line}");
        }
    }

    #[test]
    fn say_note_says_only_a_note() {
        let mut s = Section::new("t");
        s.say_note("");
        assert!(s.markdown.is_empty());
        s.say_note("⚠ note");
        assert!(s.markdown.contains("⚠ note"));
        s.add_files(vec![PathBuf::from("/a/b/c.png"), PathBuf::from("d.svg")]);
        assert_eq!(
            s.files,
            vec![PathBuf::from("c.png"), PathBuf::from("d.svg")]
        );
    }

    use super::*;

    #[test]
    fn a_scratch_folder_written_into_during_the_interrupt_is_still_removed() {
        // A writer thread keeps creating files in the folder (what the main thread
        // does while the interrupt thread cleans up): the folder must be gone after
        // the clean-up, on every one of many drawn timings.
        use std::sync::atomic::{AtomicBool, Ordering};
        let parent = tempfile::tempdir().unwrap();
        for round in 0..40u64 {
            let dir = parent.path().join(format!(".tp4-course-{round}.tmp"));
            std::fs::create_dir(&dir).unwrap();
            for k in 0..50 {
                std::fs::write(dir.join(format!("avant{k}")), b"x").unwrap();
            }
            let stop = AtomicBool::new(false);
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut k = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let _ = std::fs::write(dir.join(format!("f{k}")), b"x");
                        k += 1;
                    }
                });
                std::thread::sleep(std::time::Duration::from_micros(round * 37 % 500));
                remove_while_written(std::slice::from_ref(&dir));
                let gone = !dir.exists();
                stop.store(true, Ordering::Relaxed);
                assert!(gone, "round {round}: {dir:?} left");
            });
            // The folder moved aside for its removal is gone too.
            let left: Vec<_> = std::fs::read_dir(parent.path())
                .unwrap()
                .flatten()
                .collect();
            assert!(left.is_empty(), "round {round}: {left:?}");
        }
    }

    #[test]
    fn a_scratch_folder_is_gone_on_every_path_and_a_live_ones_is_spared() {
        let parent = tempfile::tempdir().unwrap();
        let kept = {
            let s = ScratchDir::new(parent.path(), "essai").unwrap();
            std::fs::write(s.path().join("f"), "x").unwrap();
            s.path().to_path_buf()
        };
        assert!(!kept.exists());
        let r = std::panic::catch_unwind(|| {
            let s = ScratchDir::new(parent.path(), "essai").unwrap();
            panic!("{}", s.path().display());
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
        // Another live process's folder (pid 1) is not stale, whatever its age.
        assert!(owner_alive(".tp4-tp-1.tmp"));
        let aside = aside_name(Path::new("/o/.tp4-ex7-1.tmp"));
        assert_eq!(aside, Path::new("/o/.tp4-efface-ex7-1.tmp"));
        assert!(owner_alive(&aside.file_name().unwrap().to_string_lossy()));
        assert!(!owner_alive(".tp4-tp-999999999.tmp"));
        assert!(!owner_alive(".tp4-vieux.tmp"));
    }

    #[test]
    fn long_strings_of_an_answer_are_cut_keys_included() {
        let word = "m".repeat(1_000_000);
        let v = serde_json::json!({"top": [[word.clone(), 1]], "total": 1, (word): 2});
        let cut = cut_json_strings(&v, 20);
        let text = cut.to_string();
        assert!(text.len() < 200, "{text}");
        assert!(
            text.contains("1\u{202f}000\u{202f}000 caractères"),
            "{text}"
        );
        assert_eq!(cut["total"], 1);
        let small = serde_json::json!({"top": [["le", 3]]});
        assert_eq!(cut_json_strings(&small, 20), small);
    }

    /// Finding 4 of issue 24: a lock naming a live process that is not the run
    /// which wrote it (pid 1, this test's own pid with another start time, a bare
    /// pid, garbage) is stale and taken over; a lock of a live run is refused.
    #[test]
    fn a_lock_names_the_run_that_wrote_it_or_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join(LOCK_FILE);
        let me = LockHolder::me();
        assert!(me.alive(), "{me:?}");
        let other_start = LockHolder {
            start: me.start + 1,
            ..me.clone()
        };
        for stale in [
            "1".to_string(),
            format!("{}", std::process::id()),
            "1 1 tp4".to_string(),
            other_start.line(),
            "\u{0}\u{0}".to_string(),
            String::new(),
            "999999999 5 tp4".to_string(),
        ] {
            std::fs::write(&lock, &stale).unwrap();
            let held = lock_dir(dir.path()).unwrap_or_else(|e| panic!("{stale:?}: {e}"));
            assert_eq!(
                LockHolder::parse(&std::fs::read_to_string(&lock).unwrap()),
                Some(me.clone())
            );
            drop(held);
            assert!(!lock.exists());
        }
        let held = lock_dir(dir.path()).unwrap();
        let err = lock_dir(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains(&format!("pid {}", me.pid)) && err.contains(&me.program),
            "{err}"
        );
        drop(held);
        assert!(lock_dir(dir.path()).is_ok());
    }

    /// Finding 3 of issue 24: a configuration file is bounded and must be a file.
    #[test]
    fn small_files_are_bounded_and_devices_refused() {
        let dir = tempfile::tempdir().unwrap();
        for dev in ["/dev/zero", "/dev/urandom"] {
            let err = read_small_file(Path::new(dev), 1000, "le fichier d'hôtes")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("pas un fichier ordinaire") && err.contains(dev),
                "{err}"
            );
        }
        let err = read_small_file(dir.path(), 1000, "le fichier d'hôtes")
            .unwrap_err()
            .to_string();
        assert!(err.contains("dossier"), "{err}");
        let big = dir.path().join("gros");
        std::fs::write(&big, vec![b'a'; 1001]).unwrap();
        let err = read_small_file(&big, 1000, "le fichier d'hôtes")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trop gros"), "{err}");
        std::fs::write(&big, b"ok\n").unwrap();
        assert_eq!(read_small_file(&big, 1000, "x").unwrap(), "ok\n");
    }

    #[test]
    fn failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        write_text(&path, "ancien").unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"nouveau mais incomplet")?;
            Err(std::io::Error::other("interrompu"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "ancien");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn json_lines_are_one_object_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_json_lines(
            &path,
            &[serde_json::json!({"a": 1}), serde_json::json!({"a": 2})],
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
    }

    #[test]
    fn markdown_table_has_alignment_row() {
        let t = markdown_table(&["a", "b"], 1, &[vec!["x".into(), "1".into()]]);
        assert_eq!(t, "| a | b |\n|---|---:|\n| x | 1 |\n");
        // Text after the numbers stays left-aligned.
        let row = vec!["x".into(), "1".into(), "long texte".into()];
        let t = markdown_table_numbers(&["a", "b", "c"], &[1], std::slice::from_ref(&row));
        assert_eq!(t, "| a | b | c |\n|---|---:|---|\n| x | 1 | long texte |\n");
        let term = table_numbers(
            &["a", "b", "c"],
            &[1],
            vec![row, vec!["xyz".into(), "22".into(), "t".into()]],
        );
        let lines: Vec<&str> = term.lines().collect();
        assert!(lines.iter().any(|l| l.contains("┆ t          │")), "{term}");
        assert!(lines.iter().any(|l| l.contains("┆  1 ┆")), "{term}");
    }
}
