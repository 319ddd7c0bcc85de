//! The command-line interface: arguments (clap derive, French help) and dispatch to
//! the library.

use clap::{ArgAction, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tp4::lab::{self, Context};

const HELP_TEMPLATE: &str = "\
{before-help}{about-with-newline}
{usage-heading} {usage}

{all-args}{after-help}";

/// TP4 : fondamentaux du calcul parallèle et distribué.
///
/// Sans sous-commande, lance le TP complet sur les données de `data/` : environnement,
/// charges de référence W1–W7 en séquentiel et en parallèle, démonstrations des
/// exercices, puis écrit résultats, graphiques et rapport dans `output/`.
#[derive(Debug, Parser)]
#[command(
    name = "tp4",
    version,
    help_template = HELP_TEMPLATE,
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    subcommand_help_heading = "Commandes",
    next_help_heading = "Options générales",
    subcommand_value_name = "COMMANDE",
)]
pub struct Cli {
    /// Dossier des données d'entrée (transactions.csv, corpus.txt).
    #[arg(
        long,
        global = true,
        env = "TP4_DATA",
        hide_env_values = true,
        default_value = "data",
        value_name = "DOSSIER",
        help_heading = "Options générales"
    )]
    pub data: PathBuf,

    /// Dossier où sont écrits résultats, graphiques et rapport.
    #[arg(
        long,
        global = true,
        env = "TP4_OUTPUT",
        hide_env_values = true,
        default_value = "output",
        value_name = "DOSSIER",
        help_heading = "Options générales"
    )]
    pub output: PathBuf,

    /// Affiche cette aide.
    #[arg(short = 'h', long = "help", action = ArgAction::Help, global = true, help_heading = "Options générales")]
    help: Option<bool>,

    /// Affiche la version.
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    version: Option<bool>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Vérifie l'environnement : CPU réellement utilisables, mémoire, versions, dossiers.
    Env,
    /// Génère transactions.csv et corpus.txt (déterministes) dans le dossier de données.
    Donnees {
        /// Nombre de lignes de transactions.csv.
        #[arg(long, default_value_t = tp4::data::DEFAULT_ROWS, value_name = "R")]
        lignes: u64,
        /// Taille de corpus.txt en mégaoctets (10^6 octets).
        #[arg(long, default_value_t = tp4::data::DEFAULT_CORPUS_MB, value_name = "M")]
        mo: u64,
        /// Remplace les fichiers de données déjà présents dans le dossier (sans cette
        /// option, `donnees` refuse : les fichiers livrés dans data/ restent intacts).
        #[arg(long)]
        remplacer: bool,
    },
    /// Lance la démonstration d'un exercice (1 à 7).
    Exercice {
        /// Numéro de l'exercice.
        #[arg(value_parser = clap::value_parser!(u8).range(1..=tp4::exercises::ALL.len() as i64))]
        numero: u8,
    },
    /// Calcul distribué (timely dataflow) sur plusieurs processus ou machines.
    #[command(
        subcommand_value_name = "COMMANDE",
        subcommand_help_heading = "Commandes",
        override_usage = "tp4 cluster wordcount|groupby|mesure [OPTIONS DU CALCUL]"
    )]
    Cluster {
        /// wordcount, groupby ou mesure.
        #[command(subcommand)]
        commande: crate::cluster_cli::ClusterCommand,
    },
    /// Régénère les notebooks tp4.ipynb (étudiant) et corrige/tp4.ipynb depuis notebook/tp4.md.
    Notebook {
        /// Racine du dépôt (le dossier qui contient notebook/tp4.md).
        #[arg(long, default_value = ".", value_name = "DOSSIER")]
        racine: PathBuf,
        /// Vérifie seulement que les notebooks sont à jour (code de sortie 1 sinon).
        #[arg(long)]
        verifier: bool,
    },
    /// Corrige une classe : les notebooks rendus (COPIES/) → notes.csv, retours par élève,
    /// résumé de la classe (voir docs/correction.md).
    Corriger(crate::grade_cli::GradeArgs),
    /// Processus de travail (interne) : `tp4` lancé par lui-même pour calculer une part.
    #[command(hide = true, name = "__worker")]
    Worker {
        /// La tâche et ses paramètres (voir `tp4::procs::worker_main`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Banc d'essai : mesure W1–W7 avec chaque stratégie et chaque nombre de workers,
    /// vérifie chaque réponse, écrit bench.csv, bench.json et les graphiques.
    Bench {
        /// Charges à mesurer : primes pi sumsq groupby ipc io wordcount (toutes par défaut).
        #[arg(value_name = "CHARGE")]
        charges: Vec<String>,
        /// Stratégies à mesurer, séparées par des virgules (par défaut : toutes).
        #[arg(long, value_delimiter = ',', value_name = "LISTE")]
        strategies: Vec<String>,
        /// Nombres de workers, séparés par des virgules (défaut : 1 à nombre de CPU utilisables).
        #[arg(long, value_delimiter = ',', value_name = "LISTE")]
        workers: Vec<usize>,
        /// Taille pour chaque charge choisie (N, S, M, lignes, K, T, ou Mo du corpus) ; par
        /// défaut celles de workloads.md.
        #[arg(long, value_name = "N")]
        taille: Option<u64>,
        /// Nombre de mesures chronométrées après l'échauffement.
        #[arg(long, default_value_t = 5, value_name = "K")]
        repetitions: usize,
        /// N'écrit sur la sortie standard que les lignes JSON (une par mesure), sans barre
        /// de progression.
        #[arg(long)]
        json: bool,
        /// Mesure W4 et W7 sur les fichiers de --data eux-mêmes (vos fichiers), au lieu de
        /// fichiers générés à la taille de workloads.md dans <data>/bench/.
        #[arg(long = "fichiers-de-data")]
        fichiers_de_data: bool,
    },
}

/// Prints a clap error in French and returns its exit code (0 for help/version).
pub fn report_usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let text = e.render().to_string();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        print!("{}", translate(&text));
        return ExitCode::SUCCESS;
    }
    eprint!("{}", french_usage_error(&e));
    ExitCode::from(2)
}

/// A clap error written in French from its kind and context (the argument, the
/// value, the suggestions, the usage line), not by patching clap's English
/// sentences: every path (unknown argument or subcommand, invalid or missing value,
/// missing or conflicting argument) gives a whole French message.
pub fn french_usage_error(e: &clap::Error) -> String {
    use clap::error::{ContextKind as C, ContextValue as V, ErrorKind as K};
    let get = |k: C| -> Option<String> {
        e.get(k).map(|v| match v {
            V::String(s) => s.clone(),
            V::Strings(v) => v.join(", "),
            V::StyledStr(s) => s.to_string(),
            V::StyledStrs(v) => v
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            V::Number(n) => n.to_string(),
            V::Bool(b) => b.to_string(),
            V::None => String::new(),
            _ => String::new(),
        })
    };
    let arg = get(C::InvalidArg).unwrap_or_default();
    let value = get(C::InvalidValue).unwrap_or_default();
    let head = match e.kind() {
        K::UnknownArgument => format!("argument inattendu « {arg} »"),
        K::InvalidSubcommand => format!(
            "sous-commande inconnue « {} »",
            get(C::InvalidSubcommand).unwrap_or_default()
        ),
        K::InvalidValue if value.is_empty() => {
            format!("une valeur est requise pour « {arg} » mais aucune n'a été donnée")
        }
        K::InvalidValue => match get(C::ValidValue) {
            Some(valid) => {
                format!("valeur invalide « {value} » pour « {arg} » ; valeurs possibles : {valid}")
            }
            None => format!("valeur invalide « {value} » pour « {arg} »"),
        },
        K::ValueValidation => format!(
            "valeur invalide « {value} » pour « {arg} » : {}",
            french_parse_error(
                &std::error::Error::source(e)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )
        ),
        K::MissingRequiredArgument => format!(
            "argument(s) obligatoire(s) manquant(s) : {}",
            get(C::InvalidArg).unwrap_or_default()
        ),
        K::MissingSubcommand | K::DisplayHelpOnMissingArgumentOrSubcommand => {
            "une sous-commande est requise".to_string()
        }
        K::ArgumentConflict => format!(
            "« {arg} » ne peut pas être donné avec « {} »",
            get(C::PriorArg).unwrap_or_else(|| "un autre argument".into())
        ),
        K::TooManyValues => format!("valeur en trop « {value} » pour « {arg} »"),
        K::TooFewValues | K::WrongNumberOfValues => {
            format!("nombre de valeurs incorrect pour « {arg} »")
        }
        K::NoEquals => format!("« {arg} » s'écrit avec un signe = (par exemple {arg}=VALEUR)"),
        K::InvalidUtf8 => "un argument n'est pas du texte UTF-8 valide".to_string(),
        _ => "ligne de commande invalide".to_string(),
    };
    let mut out = format!("erreur : {head}\n");
    for (kind, text) in [
        (C::SuggestedArg, "vouliez-vous dire « {} » ?"),
        (C::SuggestedSubcommand, "vouliez-vous dire « {} » ?"),
        (C::SuggestedValue, "vouliez-vous dire « {} » ?"),
        (C::SuggestedCommand, "vouliez-vous dire « {} » ?"),
    ] {
        if let Some(s) = get(kind).filter(|s| !s.is_empty()) {
            out.push_str(&format!("\n  astuce : {}\n", text.replace("{}", &s)));
        }
    }
    // clap's own tips (`Suggested`) are English sentences: the one that matters, a
    // value that starts with '-', is said here in French.
    if get(C::TrailingArg).as_deref() == Some("true")
        || arg.starts_with('-') && arg.len() > 1 && arg[1..].parse::<f64>().is_ok()
    {
        out.push_str(&format!(
            "\n  astuce : pour donner « {arg} » comme valeur, écrivez « -- {arg} »\n"
        ));
    }
    if let Some(usage) = get(C::Usage).filter(|s| !s.is_empty()) {
        out.push_str(&format!("\n{}\n", translate(usage.trim_end())));
    }
    out.push_str("\nPour plus d'informations : « tp4 --help ».\n");
    out
}

/// The error of a number's parser (the standard library's English), in French.
fn french_parse_error(text: &str) -> String {
    const KNOWN: [(&str, &str); 7] = [
        (
            "invalid digit found in string",
            "ce n'est pas un nombre entier",
        ),
        (
            "number too large to fit in target type",
            "nombre trop grand",
        ),
        (
            "number too small to fit in target type",
            "nombre trop petit",
        ),
        ("cannot parse integer from empty string", "valeur vide"),
        ("invalid float literal", "ce n'est pas un nombre"),
        ("cannot parse float from empty string", "valeur vide"),
        (
            "provided string was not `true` or `false`",
            "attendu : true ou false",
        ),
    ];
    KNOWN
        .iter()
        .find(|(en, _)| text.contains(en))
        .map_or_else(|| translate(text), |(_, fr)| fr.to_string())
}

/// Translates clap's fixed English phrases.
fn translate(text: &str) -> String {
    const PHRASES: [(&str, &str); 16] = [
        ("error: ", "erreur : "),
        ("Usage:", "Utilisation :"),
        ("Commands:", "Commandes :"),
        ("Commandes:", "Commandes :"),
        (
            "For more information, try '--help'.",
            "Pour plus d'informations : « tp4 --help ».",
        ),
        ("unexpected argument", "argument inattendu"),
        ("unrecognized subcommand", "sous-commande inconnue"),
        ("invalid value", "valeur invalide"),
        ("for '", "pour '"),
        ("is not in", "n'est pas dans"),
        (
            "invalid digit found in string",
            "ce n'est pas un nombre entier",
        ),
        ("a value is required", "une valeur est requise"),
        ("but none was supplied", "mais aucune n'a été donnée"),
        ("tip: ", "astuce : "),
        (
            "the following required arguments were not provided",
            "arguments obligatoires manquants",
        ),
        ("[default: ", "[défaut : "),
    ];
    let mut s = text.to_string();
    for (en, fr) in PHRASES {
        s = s.replace(en, fr);
    }
    s.replace("[env: ", "[variable : ")
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> tp4::Result<ExitCode> {
    let ctx = Context::new(&cli.data, &cli.output);
    tp4::output::remove_stale_temp_files(&[&ctx.data, &ctx.data.join("bench"), &ctx.output]);
    match cli.command {
        None => run_lab(&ctx),
        Some(Command::Env) => {
            let report = tp4::environment::inspect(&ctx.data, &ctx.output);
            print!("{report}");
            report.ensure_ok()?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Donnees {
            lignes,
            mo,
            remplacer,
        }) => {
            if !remplacer {
                tp4::data::refuse_to_replace(&ctx.data)?;
            }
            tp4::data::generate_files(&ctx.data, lignes, mo, true)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Worker { args }) => {
            tp4::procs::worker_main(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Exercice { numero }) => {
            let exercise = tp4::exercises::find(numero).ok_or_else(|| {
                tp4::Error::InvalidParameter(format!(
                    "l'exercice {numero} n'existe pas : choisissez un numéro de 1 à {}",
                    tp4::exercises::ALL.len()
                ))
            })?;
            ctx.preflight()?;
            // The demo writes into the output folder: no other run may write there.
            let _lock = tp4::output::lock_dir(&ctx.output)?;
            println!("── {} ──", exercise.title);
            let section = (exercise.demo)(&ctx)?;
            print_files(&ctx, &section.files);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Cluster { commande }) => crate::cluster_cli::run(&ctx, commande),
        Some(Command::Notebook { racine, verifier }) => run_notebook(&racine, verifier),
        Some(Command::Corriger(args)) => crate::grade_cli::run(args, ctx.output.clone()),
        Some(Command::Bench {
            charges,
            strategies,
            workers,
            taille,
            repetitions,
            json,
            fichiers_de_data,
        }) => {
            let opts = tp4::bench::Options {
                workloads: charges,
                strategies,
                workers,
                size: taille,
                repetitions,
                json,
                data_files: fichiers_de_data,
            };
            tp4::bench::plan(&opts)?;
            let _lock = tp4::output::lock_dir(&ctx.output)?;
            let mut stdout = std::io::stdout().lock();
            tp4::bench::run(&opts, &ctx.data, &ctx.output, &mut stdout)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_notebook(root: &std::path::Path, check_only: bool) -> tp4::Result<ExitCode> {
    let cells = tp4::notebook::load(root)?;
    let leaks = tp4::notebook::leaked_solutions(&cells)?;
    if let Some((line, text)) = leaks.first() {
        return Err(tp4::Error::Other(format!(
            "{}, ligne {line} : la ligne de solution « {text} » apparaît aussi dans la version \
             étudiante ; retirez-la des autres cellules",
            root.join(tp4::notebook::SOURCE).display()
        )));
    }
    if check_only {
        let stale = tp4::notebook::stale(root)?;
        if stale.is_empty() {
            println!("Les notebooks sont à jour.");
            return Ok(ExitCode::SUCCESS);
        }
        for p in stale {
            println!("pas à jour : {} → lancez `tp4 notebook`", p.display());
        }
        return Ok(ExitCode::from(1));
    }
    for p in tp4::notebook::generate(root)? {
        println!("écrit : {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_lab(ctx: &Context) -> tp4::Result<ExitCode> {
    let summary = lab::run_all_staged(ctx)?;
    println!(
        "TP terminé en {}. Fichiers écrits :",
        tp4::fr::seconds(summary.seconds)
    );
    for f in lab::written_files(ctx, &summary) {
        println!("  {}", f.display());
    }
    println!(
        "Ouvrez {} pour le rapport complet.",
        summary.report.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_files(ctx: &Context, files: &[PathBuf]) {
    if files.is_empty() {
        return;
    }
    println!("Fichiers écrits :");
    for f in files {
        // Demos return names inside the output folder, or paths that already start
        // with it: never join it twice (`output/output/…`).
        let p = if f.is_absolute() || f.starts_with(&ctx.output) {
            f.clone()
        } else {
            ctx.output.join(f)
        };
        println!("  {}", p.display());
    }
}
