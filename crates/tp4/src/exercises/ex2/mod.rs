//! Exercise 2 — closures (lambda expressions) and higher-order functions.
//!
//! A closure is a function value that *captures* variables of the place where it
//! is written. How it uses what it captures decides which trait it implements:
//!
//! | trait | the closure... | can be called |
//! |---|---|---|
//! | `Fn` | only reads its captures | any number of times, even from several threads at once |
//! | `FnMut` | modifies its captures (a counter) | many times, but one call at a time (`&mut`) |
//! | `FnOnce` | gives away (moves out) a capture | once |
//!
//! `move` makes the closure take its captures by value instead of borrowing them:
//! needed when the closure outlives the function that created it (returned, or sent
//! to a thread — question 2.6, the bridge to exercise 4).
//!
//! Higher-order functions take or return functions: [`apply_n`], [`compose`],
//! [`pipeline`], [`make_adder`], [`by_category`], [`partial`], [`top_n_by`],
//! [`memoize`]. Generic parameters (`impl Fn(T) -> T`) are resolved at compile time
//! and inlined: a closure passed this way costs nothing. `Box<dyn Fn>` is a closure
//! behind a pointer, chosen at run time: it lets a `Vec` hold different closures.
//!
//! - [`verif`]: the checkers of the notebook (`tp4::ex2::verif::q1_counter(...)`...);
//! - [`demo`]: what `tp4 exercice 2` shows and measures.

pub mod demo;
pub mod live;
pub mod verif;

use crate::data::transactions::Transaction;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

/// Title of the exercise (report section, `tp4 exercice 2`).
pub const TITLE: &str = "Exercice 2 — Expressions lambda et fonctions d'ordre supérieur";

/// Question 2.1 (`FnMut`) — un compteur : chaque appel rend 1, 2, 3… ; deux
/// compteurs créés séparément sont indépendants.
///
/// The closure owns its count (`move`) and modifies it: it is `FnMut`, so the
/// caller must hold it as `let mut c = make_counter();`. Each call of
/// `make_counter` creates a fresh captured variable, hence independent counters.
pub(crate) fn make_counter() -> impl FnMut() -> u64 {
    let mut count = 0;
    move || {
        count += 1;
        count
    }
}

/// Question 2.1 (`FnMut`) — un accumulateur : chaque appel ajoute sa valeur au total
/// et rend le total courant.
pub(crate) fn make_accumulator() -> impl FnMut(f64) -> f64 {
    let mut total = 0.0;
    move |x| {
        total += x;
        total
    }
}

/// Question 2.1 (`FnOnce`) — une fermeture qui prend possession d'un vecteur de mots
/// et, quand on l'appelle, le rend trié.
///
/// The body moves the captured vector out (it returns it), so the closure cannot
/// run a second time: it implements only `FnOnce`. Calling it twice is a compile
/// error ("closure cannot be invoked more than once").
pub(crate) fn sorted_later(words: Vec<String>) -> impl FnOnce() -> Vec<String> {
    move || {
        let mut words = words;
        words.sort();
        words
    }
}

/// Question 2.2 — applique `f` `n` fois : `apply_n(f, 3, x) = f(f(f(x)))` ;
/// `apply_n(f, 0, x) = x`.
///
/// `fold` over `0..n` threads the value through `f`; `f` is taken as `impl Fn`,
/// so `apply_n(|x| x * 2, 10, 1)` is compiled into a plain loop.
pub(crate) fn apply_n<T>(f: impl Fn(T) -> T, n: usize, x: T) -> T {
    (0..n).fold(x, |acc, _| f(acc))
}

/// Question 2.2 — composition : `compose(f, g)(x) = f(g(x))` (d'abord `g`, puis `f`,
/// comme f ∘ g en mathématiques).
///
/// The result is a new closure that owns `f` and `g` (`move`).
pub(crate) fn compose<A, B, C>(f: impl Fn(B) -> C, g: impl Fn(A) -> B) -> impl Fn(A) -> C {
    move |x| f(g(x))
}

/// A step of a [`pipeline`]: any closure from `T` to `T`, boxed so that different
/// closures (different types) fit in one `Vec`.
pub type Step<T> = Box<dyn Fn(T) -> T>;

/// Question 2.2 — un pipeline : une liste de fermetures appliquées dans l'ordre
/// (la première d'abord) ; un pipeline vide rend sa valeur inchangée.
pub(crate) fn pipeline<T>(steps: Vec<Step<T>>) -> impl Fn(T) -> T {
    move |x| steps.iter().fold(x, |acc, step| step(acc))
}

/// Question 2.3 — une fabrique de fonctions : `make_adder(n)` rend la fonction
/// `x ↦ x + n`.
pub(crate) fn make_adder(n: i64) -> impl Fn(i64) -> i64 {
    move |x| x + n
}

/// Question 2.3 — une fabrique de filtres : `by_category("sport")` rend le prédicat
/// « la vente est de la catégorie sport », à passer à `filter`.
///
/// The category is copied into the closure (`to_string` then `move`): the filter
/// does not borrow the caller's string, so it can be stored or returned freely.
pub(crate) fn by_category(category: &str) -> impl Fn(&Transaction) -> bool {
    let category = category.to_string();
    move |t| t.category == category
}

/// Question 2.3 — application partielle : fixe le premier argument d'une fonction à
/// deux arguments, `partial(f, a)(b) = f(a, b)`.
///
/// `a` is cloned at each call so that the result is `Fn` (callable many times).
pub(crate) fn partial<A: Clone, B, C>(f: impl Fn(A, B) -> C, a: A) -> impl Fn(B) -> C {
    move |b| f(a.clone(), b)
}

/// Question 2.4 — les `n` premières valeurs d'une clé (ville, catégorie…) par
/// chiffre d'affaires en centimes, du plus grand au plus petit ; à égalité, ordre
/// alphabétique de la clé.
///
/// The key is a closure: the same function gives the top cities
/// (`|t| &t.city`) or the top categories (`|t| &t.category`). Totals are grouped in
/// a `HashMap`; `select_nth_unstable_by` then moves the `n` best to the front in
/// linear time (no full sort of all keys), and only those `n` are sorted. The
/// comparison breaks ties by name, so the answer does not depend on the
/// `HashMap`'s order: sorting is then deterministic, which a plain `sort_by` on the
/// revenue alone would not be.
pub(crate) fn top_n_by<'a>(
    rows: &'a [Transaction],
    key: impl Fn(&'a Transaction) -> &'a str,
    n: usize,
) -> Vec<(String, i64)> {
    let mut totals: HashMap<&str, i64> = HashMap::new();
    for t in rows {
        *totals.entry(key(t)).or_default() += t.revenue_cents();
    }
    let mut v: Vec<(&str, i64)> = totals.into_iter().collect();
    let by_rank = |a: &(&str, i64), b: &(&str, i64)| b.1.cmp(&a.1).then(a.0.cmp(b.0));
    if n == 0 {
        return Vec::new();
    }
    if n < v.len() {
        v.select_nth_unstable_by(n - 1, by_rank);
        v.truncate(n);
    }
    v.sort_by(by_rank);
    v.into_iter().map(|(k, c)| (k.to_string(), c)).collect()
}

/// Question 2.4 — les `n` villes au plus grand chiffre d'affaires (centimes),
/// égalités départagées par ordre alphabétique.
pub(crate) fn top_cities(rows: &[Transaction], n: usize) -> Vec<(String, i64)> {
    top_n_by(rows, |t| &t.city, n)
}

/// Question 2.4 — la vente au plus grand chiffre d'affaires ; à égalité, la première
/// du fichier (`None` pour une table vide).
///
/// `max_by_key` would return the *last* of equal maxima; comparing the ids in
/// reverse as a second criterion makes the first one win.
pub(crate) fn best_sale(rows: &[Transaction]) -> Option<&Transaction> {
    rows.iter().max_by(|a, b| {
        a.revenue_cents()
            .cmp(&b.revenue_cents())
            .then(b.id.cmp(&a.id))
    })
}

/// Question 2.5 — `memoize(f)` : une fonction qui se souvient de ses résultats (le
/// pendant de `joblib.Memory` en Python) ; `f` n'est appelée qu'une fois par
/// argument distinct.
///
/// The returned closure owns a `HashMap` from arguments to results: it is `FnMut`
/// (it fills its cache). Only worth it for pure functions (same argument, same
/// result) that cost more than a hash lookup.
pub(crate) fn memoize<A, R>(f: impl Fn(A) -> R) -> impl FnMut(A) -> R
where
    A: Eq + Hash + Clone,
    R: Clone,
{
    let mut cache: HashMap<A, R> = HashMap::new();
    move |a| {
        if let Some(r) = cache.get(&a) {
            return r.clone();
        }
        let r = f(a.clone());
        cache.insert(a, r.clone());
        r
    }
}

/// Question 2.6 — somme d'un vecteur par `workers` threads lancés avec
/// `std::thread::spawn` et des fermetures `move`.
///
/// `thread::spawn` requires a closure that is `'static` (it owns everything it uses:
/// the thread may outlive the caller) and `Send` (what it owns may cross to another
/// thread). The data is therefore put in an `Arc` (a thread-safe shared owner):
/// each thread moves in its own clone of the `Arc` and its range of indices.
///
/// What the compiler rejects — a thread closure that borrows a local variable:
///
/// ```compile_fail,E0373
/// let data = vec![1u64, 2, 3];
/// // error[E0373]: closure may outlive the current function, but it borrows `data`
/// let handle = std::thread::spawn(|| data.iter().sum::<u64>());
/// handle.join().unwrap();
/// ```
///
/// and a closure that moves in something that is not `Send`, like an `Rc` (its
/// counter is not atomic, two threads could corrupt it):
///
/// ```compile_fail,E0277
/// let data = std::rc::Rc::new(vec![1u64, 2, 3]);
/// // error[E0277]: `Rc<Vec<u64>>` cannot be sent between threads safely
/// let handle = std::thread::spawn(move || data.iter().sum::<u64>());
/// handle.join().unwrap();
/// ```
///
/// The fix is `move` plus an owner that can be shared between threads:
///
/// ```
/// let data = std::sync::Arc::new(vec![1u64, 2, 3]);
/// let mine = std::sync::Arc::clone(&data);
/// let handle = std::thread::spawn(move || mine.iter().sum::<u64>());
/// assert_eq!(handle.join().unwrap(), 6);
/// ```
pub(crate) fn parallel_sum(data: Vec<u64>, workers: usize) -> u64 {
    let data = Arc::new(data);
    let size = data.len().div_ceil(workers.max(1)).max(1);
    let handles: Vec<std::thread::JoinHandle<u64>> = (0..data.len())
        .step_by(size)
        .map(|start| {
            let data = Arc::clone(&data);
            std::thread::spawn(move || data[start..(start + size).min(data.len())].iter().sum())
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a summing thread panicked"))
        .sum()
}

/// Question 2.6 (variante) — la même somme avec `std::thread::scope` : les threads
/// d'une portée sont attendus avant la fin de la portée, donc leurs fermetures peuvent
/// *emprunter* les données (pas besoin de `'static` ni d'`Arc`).
pub(crate) fn scoped_sum(data: &[u64], workers: usize) -> u64 {
    let size = data.len().div_ceil(workers.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(size)
            .map(|chunk| s.spawn(move || chunk.iter().sum::<u64>()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a summing thread panicked"))
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_keep_their_state() {
        let mut a = make_counter();
        let mut b = make_counter();
        assert_eq!((a(), a(), a(), b()), (1, 2, 3, 1));
        let mut acc = make_accumulator();
        assert_eq!((acc(1.5), acc(2.0)), (1.5, 3.5));
        let once = sorted_later(vec!["b".into(), "a".into()]);
        assert_eq!(once(), vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn higher_order_functions() {
        assert_eq!(apply_n(|x| x * 2, 10, 1), 1024);
        assert_eq!(apply_n(|x: i32| x + 1, 0, 7), 7);
        let inc_then_double = compose(|x| x * 2, |x| x + 1);
        assert_eq!(inc_then_double(3), 8);
        let p = pipeline::<i64>(vec![Box::new(|x| x + 1), Box::new(|x| x * 10)]);
        assert_eq!(p(1), 20);
        assert_eq!(pipeline::<i64>(vec![])(5), 5);
        assert_eq!(make_adder(3)(4), 7);
        let minus = partial(|a: i64, b: i64| a - b, 10);
        assert_eq!(minus(3), 7);
    }

    #[test]
    fn top_n_breaks_ties_alphabetically() {
        use crate::data::samples::sale;
        let rows = vec![
            sale(1, "Paris", "sport", 10.0, 1),
            sale(2, "Lyon", "sport", 10.0, 1),
            sale(3, "Nice", "sport", 30.0, 1),
            sale(4, "Nice", "sport", 30.0, 1),
        ];
        assert_eq!(
            top_cities(&rows, 2),
            vec![("Nice".to_string(), 6_000), ("Lyon".to_string(), 1_000)]
        );
        assert_eq!(top_cities(&rows, 10).len(), 3);
        assert!(top_cities(&rows, 0).is_empty());
        assert_eq!(best_sale(&rows).map(|t| t.id), Some(3));
        assert_eq!(best_sale(&[]), None);
        let sport = by_category("sport");
        assert_eq!(rows.iter().filter(|t| sport(t)).count(), 4);
    }

    #[test]
    fn memoize_calls_once_per_argument() {
        let calls = std::cell::Cell::new(0);
        let mut square = memoize(|x: u64| {
            calls.set(calls.get() + 1);
            x * x
        });
        assert_eq!([square(3), square(4), square(3), square(3)], [9, 16, 9, 9]);
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn thread_sums() {
        let data: Vec<u64> = (1..=1001).collect();
        for w in [1, 2, 3, 7, 2000] {
            assert_eq!(parallel_sum(data.clone(), w), 501_501);
            assert_eq!(scoped_sum(&data, w), 501_501);
        }
        assert_eq!(parallel_sum(vec![], 4), 0);
        assert_eq!(scoped_sum(&[], 4), 0);
    }
}
