//! Checkers of exercise 2: each `qN_...` function takes the student's answer (a
//! function, or a closure wrapping a generic function) and compares it with the
//! reference of [`super`] on fixed, edge and generated cases. It returns a
//! [`Verdict`] whose display is the French diagnosis printed by the notebook.
//!
//! Generic answers are passed through a closure that fixes their types. A wrong
//! answer (here, composition in the wrong order) is rejected:
//!
//! ```
//! use tp4::ex2::verif;
//! let v = verif::q2_compose(|f, g| Box::new(move |x| g(f(x))));
//! assert!(!v.passed(), "{v}");
//! ```
//!
//! The references of [`super`] are private to the library, so a notebook cannot
//! hand them in as its answer:
//!
//! ```compile_fail,E0603
//! tp4::ex2::verif::q3_make_adder(tp4::ex2::make_adder);
//! ```

use crate::data::samples::{sale, sample_rows};
use crate::data::transactions::{Transaction, CATEGORIES};
use crate::verif::work::{fair_floor, require_work, Draw, Work};
use crate::verif::{check_cases, close, Verdict};
use std::cell::Cell;
use std::rc::Rc;

/// A small arithmetic step with a name, so that checker cases can build the same
/// closure twice (once for the reference, once for the student). Overflow wraps,
/// so that no case panics whatever the student does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// `x + k`.
    Add(i64),
    /// `x × k`.
    Mul(i64),
    /// `x²`.
    Square,
    /// `k − x`.
    SubFrom(i64),
}

impl Op {
    /// Applies the step.
    pub fn apply(self, x: i64) -> i64 {
        match self {
            Op::Add(k) => x.wrapping_add(k),
            Op::Mul(k) => x.wrapping_mul(k),
            Op::Square => x.wrapping_mul(x),
            Op::SubFrom(k) => k.wrapping_sub(x),
        }
    }

    /// The step as a boxed closure.
    pub fn boxed(self) -> Box<dyn Fn(i64) -> i64> {
        Box::new(move |x| self.apply(x))
    }
}

/// A case of [`q2_compose`]: `f`, `g` and the inputs.
type ComposeCase = (Op, Op, Vec<i64>);
/// A case of [`q2_pipeline`]: the steps and the inputs.
type PipelineCase = (Vec<Op>, Vec<i64>);
/// A case of [`q3_partial`]: name of `f`, `f`, the fixed argument, the inputs.
type PartialCase = (&'static str, fn(i64, i64) -> i64, i64, Vec<i64>);

/// Question 2.1: `make()` must create a counter whose calls return 1, 2, 3…;
/// two counters must be independent. Pass the factory: `q1_counter(make_counter)`.
pub fn q1_counter<F: FnMut() -> u64>(make: impl Fn() -> F) -> Verdict {
    let cases: Vec<(String, usize)> = vec![
        ("un seul appel".into(), 1),
        ("cinq appels".into(), 5),
        ("mille appels".into(), 1000),
    ];
    // Output: the values of a first counter, then the first value of a second
    // counter created after it.
    let run =
        |n: usize, mut first: Box<dyn FnMut() -> u64 + '_>, second: &mut dyn FnMut() -> u64| {
            let values: Vec<u64> = (0..n).map(|_| first()).collect();
            (values, second())
        };
    check_cases(
        "2.1 compteur (FnMut)",
        "la variable capturée doit être créée DANS la fabrique (un compteur neuf commence à \
         1), puis incrémentée avant d'être rendue : la fermeture la possède (`move`) et la \
         modifie (`FnMut`)",
        cases,
        |&n| {
            let mut second = super::make_counter();
            run(n, Box::new(super::make_counter()), &mut second)
        },
        |&n| {
            let first = make();
            let mut second = make();
            run(n, Box::new(first), &mut second)
        },
        |a, b| a == b,
    )
}

/// Question 2.1: `make()` must create an accumulator: each call adds its argument
/// to a total and returns the total so far.
pub fn q1_accumulator<F: FnMut(f64) -> f64>(make: impl Fn() -> F) -> Verdict {
    let cases: Vec<(String, Vec<f64>)> = vec![
        ("une valeur".into(), vec![2.5]),
        ("valeurs négatives".into(), vec![1.0, -4.0, 2.5]),
        ("grandes valeurs".into(), vec![1e15, 2e15, -5e14]),
        ("cent valeurs".into(), (1..=100).map(f64::from).collect()),
    ];
    check_cases(
        "2.1 accumulateur (FnMut)",
        "la fermeture possède un total (`move`) qu'elle modifie à chaque appel (`FnMut`) : \
         rendez le total courant, pas l'argument",
        cases,
        |xs| {
            let mut acc = super::make_accumulator();
            xs.iter().map(|&x| acc(x)).collect::<Vec<f64>>()
        },
        |xs| {
            let mut acc = make();
            xs.iter().map(|&x| acc(x)).collect::<Vec<f64>>()
        },
        |a, b| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(*x, *y, 1e-12)),
    )
}

/// Question 2.1: `make(words)` must return a closure that, called once, gives the
/// words back sorted.
pub fn q1_sorted_later<F: FnOnce() -> Vec<String>>(make: impl Fn(Vec<String>) -> F) -> Verdict {
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let cases: Vec<(String, Vec<String>)> = vec![
        ("aucun mot".into(), vec![]),
        ("un mot".into(), words("seul")),
        (
            "mots en désordre avec doublons".into(),
            words("poire pomme abricot pomme kiwi"),
        ),
    ];
    check_cases(
        "2.1 fermeture consommée (FnOnce)",
        "la fermeture possède le vecteur (`move`), le trie (`slice::sort`) et le rend : \
         elle ne sert qu'une fois (`FnOnce`)",
        cases,
        |w| super::sorted_later(w.clone())(),
        |w| make(w.clone())(),
        |a, b| a == b,
    )
}

/// Question 2.2: `student(f, n, x)` must apply `f` `n` times to `x`. Pass a
/// closure around a generic answer: `q2_apply_n(|f, n, x| apply_n(f, n, x))`.
pub fn q2_apply_n(student: impl Fn(&dyn Fn(i64) -> i64, usize, i64) -> i64) -> Verdict {
    let cases: Vec<(String, (Op, usize, i64))> = vec![
        ("n = 0 (aucune application)".into(), (Op::Add(5), 0, 7)),
        ("n = 1".into(), (Op::Add(5), 1, 7)),
        ("doubler 10 fois".into(), (Op::Mul(2), 10, 1)),
        ("k − x, 3 fois".into(), (Op::SubFrom(10), 3, 4)),
        (
            "grand n (100 000 fois + 3)".into(),
            (Op::Add(3), 100_000, 0),
        ),
    ];
    check_cases(
        "2.2 apply_n",
        "appliquez f exactement n fois, chaque résultat devenant l'entrée suivante (n = 0 \
         rend x inchangé) : une boucle, ou cherchez `Iterator::fold` sur un intervalle",
        cases,
        |&(op, n, x)| super::apply_n(|v| op.apply(v), n, x),
        |&(op, n, x)| student(&|v| op.apply(v), n, x),
        |a, b| a == b,
    )
}

/// Question 2.2: `student(f, g)` must return `x ↦ f(g(x))`. Pass
/// `q2_compose(|f, g| Box::new(compose(f, g)))`.
pub fn q2_compose(
    student: impl Fn(Box<dyn Fn(i64) -> i64>, Box<dyn Fn(i64) -> i64>) -> Box<dyn Fn(i64) -> i64>,
) -> Verdict {
    let cases: Vec<(String, ComposeCase)> = vec![
        (
            "f = ×2, g = +1".into(),
            (Op::Mul(2), Op::Add(1), vec![0, 3, -7]),
        ),
        (
            "f = carré, g = 10 − x".into(),
            (Op::Square, Op::SubFrom(10), vec![1, 4, 100]),
        ),
        (
            "f = g = +3".into(),
            (Op::Add(3), Op::Add(3), vec![i64::MAX - 6, 0]),
        ),
    ];
    check_cases(
        "2.2 compose",
        "la composée applique g d'abord, puis f à son résultat (f ∘ g) ; la fermeture \
         rendue doit posséder f et g (`move`)",
        cases,
        |(f, g, xs)| {
            let h = super::compose(f.boxed(), g.boxed());
            xs.iter().map(|&x| h(x)).collect::<Vec<_>>()
        },
        |(f, g, xs)| {
            let h = student(f.boxed(), g.boxed());
            xs.iter().map(|&x| h(x)).collect::<Vec<_>>()
        },
        |a, b| a == b,
    )
}

/// Question 2.2: `student(steps)` must return the function that applies the steps
/// in order, first step first. Pass `q2_pipeline(|s| Box::new(pipeline(s)))`.
pub fn q2_pipeline(
    student: impl Fn(Vec<Box<dyn Fn(i64) -> i64>>) -> Box<dyn Fn(i64) -> i64>,
) -> Verdict {
    let cases: Vec<(String, PipelineCase)> = vec![
        ("pipeline vide".into(), (vec![], vec![0, 42])),
        ("une étape".into(), (vec![Op::Add(1)], vec![0, 41])),
        (
            "+1 puis ×10".into(),
            (vec![Op::Add(1), Op::Mul(10)], vec![1, 5]),
        ),
        (
            "quatre étapes".into(),
            (
                vec![Op::SubFrom(3), Op::Square, Op::Add(-1), Op::Mul(7)],
                vec![0, 2, 9],
            ),
        ),
    ];
    let boxes = |ops: &[Op]| ops.iter().map(|op| op.boxed()).collect::<Vec<_>>();
    check_cases(
        "2.2 pipeline de fermetures",
        "appliquez les étapes dans l'ordre de la liste, la première d'abord, chacune sur le \
         résultat de la précédente (cherchez `Iterator::fold`) ; un pipeline vide rend x \
         inchangé",
        cases,
        |(ops, xs)| {
            let p = super::pipeline(boxes(ops));
            xs.iter().map(|&x| p(x)).collect::<Vec<_>>()
        },
        |(ops, xs)| {
            let p = student(boxes(ops));
            xs.iter().map(|&x| p(x)).collect::<Vec<_>>()
        },
        |a, b| a == b,
    )
}

/// Question 2.3: `student(n)` must return `x ↦ x + n`, callable many times.
pub fn q3_make_adder<F: Fn(i64) -> i64>(student: impl Fn(i64) -> F) -> Verdict {
    let cases: Vec<(String, (i64, Vec<i64>))> = vec![
        ("ajouter 0".into(), (0, vec![5, -5])),
        ("ajouter 3".into(), (3, vec![0, 1, 2, 3])),
        ("ajouter un négatif".into(), (-10, vec![10, 0])),
        (
            "grandes valeurs".into(),
            (1 << 40, vec![1 << 41, -(1 << 40)]),
        ),
    ];
    check_cases(
        "2.3 make_adder",
        "la fermeture capture n par valeur (`move`) et ne le modifie pas : elle est `Fn`, \
         appelable autant de fois qu'on veut",
        cases,
        |(n, xs)| {
            let add = super::make_adder(*n);
            xs.iter().map(|&x| add(x)).collect::<Vec<_>>()
        },
        |(n, xs)| {
            let add = student(*n);
            xs.iter().map(|&x| add(x)).collect::<Vec<_>>()
        },
        |a, b| a == b,
    )
}

/// Question 2.3: `student(category)` must return the predicate "the sale is of this
/// category"; the checker filters tables with it and compares the ids kept.
pub fn q3_by_category<F: Fn(&Transaction) -> bool>(student: impl Fn(&'static str) -> F) -> Verdict {
    let mut cases: Vec<(String, (&'static str, Vec<Transaction>))> = vec![
        ("table vide".into(), ("sport", vec![])),
        (
            "catégorie absente".into(),
            (
                "jouets",
                vec![
                    sale(1, "Lyon", "sport", 1.0, 1),
                    sale(2, "Nice", "livres", 1.0, 1),
                ],
            ),
        ),
        (
            "majuscules : « Sport » n'est pas « sport »".into(),
            ("Sport", vec![sale(1, "Lyon", "sport", 1.0, 1)]),
        ),
    ];
    for (i, cat) in CATEGORIES.iter().enumerate() {
        cases.push((
            format!("« {cat} » sur 300 ventes générées"),
            (cat, sample_rows(300, 10 + i as u64)),
        ));
    }
    check_cases(
        "2.3 fabrique de filtres by_category",
        "la fermeture doit posséder sa propre copie de la catégorie (`to_string`, puis \
         `move`) : elle vit plus longtemps que l'argument emprunté ; comparez l'égalité \
         exacte, majuscules comprises",
        cases,
        |(cat, rows)| ids(rows, super::by_category(cat)),
        |(cat, rows)| ids(rows, student(cat)),
        |a, b| a == b,
    )
}

fn ids(rows: &[Transaction], keep: impl Fn(&Transaction) -> bool) -> Vec<u64> {
    rows.iter().filter(|t| keep(t)).map(|t| t.id).collect()
}

/// Question 2.3: `student(f, a)` must return `b ↦ f(a, b)` (the first argument is
/// fixed). Pass `q3_partial(|f, a| partial(f, a))`.
pub fn q3_partial<F: Fn(i64) -> i64>(student: impl Fn(fn(i64, i64) -> i64, i64) -> F) -> Verdict {
    let sub: fn(i64, i64) -> i64 = |a, b| a - b;
    let pow: fn(i64, i64) -> i64 = |a, b| a.wrapping_pow(b.clamp(0, 62) as u32);
    let cases: Vec<(String, PartialCase)> = vec![
        (
            "a − b avec a = 10".into(),
            ("a − b", sub, 10, vec![0, 3, 20]),
        ),
        (
            "a puissance b avec a = 2".into(),
            ("a^b", pow, 2, vec![0, 1, 10]),
        ),
        (
            "a − b avec a = 0, appelée 5 fois".into(),
            ("a − b", sub, 0, vec![1, 2, 3, 4, 5]),
        ),
    ];
    check_cases(
        "2.3 application partielle",
        "l'application partielle fixe le PREMIER argument de f ; la fermeture rendue reçoit \
         le second et, appelée plusieurs fois, donne à f une copie de a à chaque appel \
         (`Clone`)",
        cases,
        |(_, f, a, bs)| {
            let g = super::partial(*f, *a);
            bs.iter().map(|&b| g(b)).collect::<Vec<_>>()
        },
        |(_, f, a, bs)| {
            let g = student(*f, *a);
            bs.iter().map(|&b| g(b)).collect::<Vec<_>>()
        },
        |a, b| a == b,
    )
}

/// Question 2.4: `student(rows, n)` must return the `n` cities with the largest
/// revenue in cents, largest first, ties in alphabetical order.
pub fn q4_top_cities(student: impl Fn(&[Transaction], usize) -> Vec<(String, i64)>) -> Verdict {
    let ties = vec![
        sale(1, "Paris", "sport", 10.0, 2),
        sale(2, "Nice", "sport", 20.0, 1),
        sale(3, "Angers", "sport", 5.0, 4),
        sale(4, "Lyon", "livres", 1.0, 1),
        sale(5, "Dijon", "livres", 19.99, 1),
    ];
    let mut cases: Vec<(String, (Vec<Transaction>, usize))> = vec![
        ("table vide".into(), (vec![], 3)),
        ("n = 0".into(), (sample_rows(50, 3), 0)),
        (
            "une seule vente".into(),
            (vec![sale(1, "Reims", "sport", 9.99, 2)], 3),
        ),
        (
            "égalités départagées par ordre alphabétique".into(),
            (ties.clone(), 3),
        ),
        (
            "égalités, n plus grand que le nombre de villes".into(),
            (ties, 10),
        ),
    ];
    for (n, seed) in [(3, 4), (20, 5), (1, 6)] {
        cases.push((
            format!("top {n} sur 2000 ventes générées"),
            (sample_rows(2_000, seed), n),
        ));
    }
    check_cases(
        "2.4 top-N des villes",
        "totalisez le chiffre d'affaires en centimes par ville, puis triez par total \
         décroissant ET, à égalité, par nom croissant (cherchez `slice::sort_by` et \
         `Ordering::then`), puis gardez les n premières",
        cases,
        |(rows, n)| super::top_cities(rows, *n),
        |(rows, n)| student(rows, *n),
        |a, b| a == b,
    )
}

/// Question 2.5: `student(f)` must return a memoized version of `f`. The checker
/// counts the calls of `f`: exactly one per distinct argument. Pass
/// `q5_memoize(|f| memoize(f))`.
pub fn q5_memoize<M: FnMut(u64) -> u64>(student: impl Fn(Box<dyn Fn(u64) -> u64>) -> M) -> Verdict {
    let cases: Vec<(String, Vec<u64>)> = vec![
        ("aucun appel".into(), vec![]),
        ("un appel".into(), vec![7]),
        ("le même argument cinq fois".into(), vec![3; 5]),
        ("arguments distincts".into(), vec![1, 2, 3, 4]),
        (
            "répétitions entrelacées".into(),
            vec![5, 9, 5, 0, 9, 9, 5, 0],
        ),
        (
            "grands arguments".into(),
            vec![u64::MAX, 0, u64::MAX, 1 << 63],
        ),
    ];
    // The function to memoize, with a shared call counter.
    let slow = || {
        let calls = Rc::new(Cell::new(0usize));
        let counter = Rc::clone(&calls);
        let f: Box<dyn Fn(u64) -> u64> = Box::new(move |x| {
            counter.set(counter.get() + 1);
            x.wrapping_mul(x).wrapping_add(1)
        });
        (f, calls)
    };
    check_cases(
        "2.5 memoize",
        "gardez un HashMap argument → résultat DANS la fermeture rendue (move), cherchez-y \
         l'argument avant d'appeler f, et rangez-y chaque nouveau résultat ; (résultats, \
         nombre d'appels de f) doit valoir (mêmes résultats, nombre d'arguments distincts)",
        cases,
        |args| {
            let (f, calls) = slow();
            let mut m = super::memoize(f);
            let results: Vec<u64> = args.iter().map(|&a| m(a)).collect();
            (results, calls.get())
        },
        |args| {
            let (f, calls) = slow();
            let mut m = student(f);
            let results: Vec<u64> = args.iter().map(|&a| m(a)).collect();
            (results, calls.get())
        },
        |a, b| a == b,
    )
}

/// Question 2.6: `student(data, workers, work)` must add up `work.apply(x)` for
/// every `x` of `data`, with the calls made by `workers` threads. The values of
/// [`Work::apply`] change at every check (drawn salt) and the big case's size and
/// worker count are drawn too, so only the calls give the total; at least two
/// threads must each make a real share of the calls (see [`require_work`]).
pub fn q6_parallel_sum(student: impl Fn(Vec<u64>, usize, Work) -> u64) -> Verdict {
    let mut draw = Draw::new();
    let (n, w) = (draw.range(1_000, 5_000), draw.range(2, 5) as usize);
    let cases: Vec<(String, (Vec<u64>, usize))> = vec![
        ("vecteur vide".into(), (vec![], 2)),
        ("un élément".into(), (vec![42], 2)),
        (
            "plus de workers que d'éléments".into(),
            ((1..=3).collect(), 8),
        ),
        (
            "reste de la division (10 éléments, 3 workers)".into(),
            ((1..=10).collect(), 3),
        ),
        (
            format!("{n} éléments tirés au hasard, {w} workers"),
            ((0..n).map(|_| draw.range(0, 1 << 40)).collect(), w),
        ),
    ];
    let salt = crate::verif::work::draw_seed();
    let reference = Work::with_salt(salt);
    let verdict = check_cases(
        "2.6 somme avec des threads (move)",
        "chaque élément compte exactement une fois, pour la valeur que `travail` lui \
         donne (elle change à chaque vérification) : des morceaux de len / workers éléments \
         arrondi au-dessus (cherchez `div_ceil`), le dernier éventuellement plus court",
        cases,
        |(data, _)| data.iter().map(|&x| reference.apply(x)).sum::<u64>(),
        |(data, w)| student(data.clone(), *w, Work::with_salt(salt)),
        |a, b| a == b,
    );
    let big_n = draw.range(200_000, 400_000);
    let big_w = draw.range(2, 4) as usize;
    let big: Vec<u64> = (0..big_n).map(|i| i * 3 + 1).collect();
    require_work(
        verdict,
        &format!("{big_n} éléments, {big_w} workers : chaque thread calcule son morceau"),
        fair_floor(big_w),
        "chaque thread doit faire lui-même les appels à `travail.apply` de son morceau \
         (la fermeture passée à `thread::spawn`, avec `move`) ; le thread principal \
         n'additionne que les résultats rendus par `join`",
        |work| big.iter().map(|&x| work.apply(x)).sum::<u64>(),
        |work| student(big.clone(), big_w, work),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ex2 as r;
    use crate::verif::testing::{beside_a_spinning_thread, beside_sleeping_threads};
    use crate::verif::Status;

    /// The notebook's answer: one spawned thread per owned chunk.
    fn spawned(data: Vec<u64>, workers: usize, work: Work) -> u64 {
        let size = data.len().div_ceil(workers.max(1)).max(1);
        let handles: Vec<_> = data
            .chunks(size)
            .map(|c| {
                let part = c.to_vec();
                std::thread::spawn(move || part.iter().map(|&x| work.apply(x)).sum::<u64>())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    }

    /// Another right answer: scoped threads borrowing their chunk.
    fn scoped(data: Vec<u64>, workers: usize, work: Work) -> u64 {
        let size = data.len().div_ceil(workers.max(1)).max(1);
        std::thread::scope(|s| {
            let hs: Vec<_> = data
                .chunks(size)
                .map(|c| s.spawn(move || c.iter().map(|&x| work.apply(x)).sum::<u64>()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        })
    }

    fn refused_for(v: &Verdict, what: &str) {
        let Status::Failed(f) = &v.status else {
            panic!("accepted: {v}")
        };
        assert!(
            format!("{} {} {}", f.case, f.got, f.hint).contains(what),
            "{v}"
        );
    }

    #[test]
    fn right_answers_pass() {
        for _ in 0..3 {
            let v = q6_parallel_sum(spawned);
            assert!(v.passed(), "{v}");
            let v = q6_parallel_sum(scoped);
            assert!(v.passed(), "{v}");
        }
    }

    #[test]
    fn answers_without_parallel_work_are_refused() {
        let seq = |d: Vec<u64>, _w: usize, work: Work| d.iter().map(|&x| work.apply(x)).sum();
        // No thread at all.
        refused_for(&q6_parallel_sum(seq), "1 thread : 100 %");
        // Sequential work beside a thread that sleeps.
        refused_for(
            &q6_parallel_sum(|d, w, work| beside_sleeping_threads(1, 5, || seq(d, w, work))),
            "1 thread : 100 %",
        );
        // Sequential work beside a thread that spins until the work is done.
        refused_for(
            &q6_parallel_sum(|d, w, work| beside_a_spinning_thread(|| seq(d, w, work))),
            "1 thread : 100 %",
        );
        // All the work in one spawned thread.
        refused_for(
            &q6_parallel_sum(|d, w, work| {
                std::thread::spawn(move || seq(d, w, work)).join().unwrap()
            }),
            "1 thread : 100 %",
        );
        // A token share: the second thread gets one element.
        refused_for(
            &q6_parallel_sum(|d, w, work| {
                let Some((first, rest)) = d.split_first() else {
                    return 0;
                };
                let first = *first;
                let h = std::thread::spawn(move || work.apply(first));
                seq(rest.to_vec(), w, work) + h.join().unwrap()
            }),
            "2 threads : 100 %, 0 %",
        );
        // A rayon pool of one thread.
        refused_for(
            &q6_parallel_sum(|d, _w, work| {
                use rayon::prelude::*;
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .unwrap();
                pool.install(|| d.par_iter().map(|&x| work.apply(x)).sum())
            }),
            "1 thread : 100 %",
        );
    }

    #[test]
    fn answers_that_skip_the_calls_are_refused() {
        // The sum of the data itself (not of the work's values).
        refused_for(&q6_parallel_sum(|d, _, _| d.iter().sum()), "travail");
        // Right sizes computed, but the values of a previous check replayed.
        let old = Work::with_salt(1);
        refused_for(
            &q6_parallel_sum(move |d, _, _| d.iter().map(|&x| old.apply(x)).sum()),
            "travail",
        );
    }

    #[test]
    fn references_pass() {
        let verdicts = [
            q1_counter(r::make_counter),
            q1_accumulator(r::make_accumulator),
            q1_sorted_later(r::sorted_later),
            q2_apply_n(|f, n, x| r::apply_n(f, n, x)),
            q2_compose(|f, g| Box::new(r::compose(f, g))),
            q2_pipeline(|s| Box::new(r::pipeline(s))),
            q3_make_adder(r::make_adder),
            q3_by_category(r::by_category),
            q3_partial(r::partial),
            q4_top_cities(r::top_cities),
            q5_memoize(r::memoize),
        ];
        for v in verdicts {
            assert!(v.passed(), "{v}");
        }
    }

    #[test]
    fn wrong_answers_are_caught() {
        // A counter shared by every factory call (a static), and a 0-based one.
        static SHARED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        assert!(q1_counter(|| {
            || SHARED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
        })
        .failure_case()
        .is_some());
        assert!(q1_counter(|| {
            let mut n = 0;
            move || {
                let v = n;
                n += 1;
                v
            }
        })
        .failure_case()
        .is_some());
        // Returns the argument instead of the total.
        assert!(q1_accumulator(|| |x| x).failure_case().is_some());
        // Forgets to sort.
        assert!(q1_sorted_later(|w| move || w)
            .failure_case()
            .unwrap_or("(accepté)")
            .contains("désordre"));
        // Applies f once too many.
        assert!(q2_apply_n(|f, n, x| (0..=n).fold(x, |a, _| f(a)))
            .failure_case()
            .unwrap_or("(accepté)")
            .contains("n = 0"));
        // g(f(x)) instead of f(g(x)).
        assert!(q2_compose(|f, g| Box::new(move |x| g(f(x))))
            .failure_case()
            .is_some());
        // Steps applied in reverse order.
        assert!(q2_pipeline(|steps| {
            Box::new(move |x| steps.iter().rev().fold(x, |a, f| f(a)))
        })
        .failure_case()
        .is_some());
        // Adds twice.
        assert!(q3_make_adder(|n| move |x| x + 2 * n)
            .failure_case()
            .is_some());
        // Case-insensitive comparison.
        assert!(
            q3_by_category(|c| move |t: &Transaction| t.category.eq_ignore_ascii_case(c))
                .failure_case()
                .unwrap_or("(accepté)")
                .contains("majuscules")
        );
        // Fixes the second argument instead of the first.
        assert!(q3_partial(|f, a| move |b| f(b, a)).failure_case().is_some());
        // Ties broken in reverse alphabetical order.
        let v = q4_top_cities(|rows, n| {
            let mut v = r::top_cities(rows, usize::MAX);
            v.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
            v.truncate(n);
            v
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("égalités"),
            "{v}"
        );
        // No cache at all.
        assert!(q5_memoize(|f| move |x| f(x))
            .failure_case()
            .unwrap_or("(accepté)")
            .contains("cinq fois"));
        // Drops the remainder of the division.
        let v = q6_parallel_sum(|data, w, work| {
            let size = (data.len() / w).max(1);
            std::thread::scope(|s| {
                let hs: Vec<_> = (0..w)
                    .map(|i| {
                        let part: Vec<u64> =
                            data.iter().skip(i * size).take(size).copied().collect();
                        s.spawn(move || part.iter().map(|&x| work.apply(x)).sum::<u64>())
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            })
        });
        refused_for(&v, "div_ceil");
    }

    #[test]
    fn unfinished_answer_is_not_done() {
        assert!(q6_parallel_sum(|_, _, _| todo!()).not_done());
    }
}
