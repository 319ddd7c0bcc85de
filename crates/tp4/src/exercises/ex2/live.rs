//! What the notebook runs live in exercise 2 before the questions: the library's
//! own closures at work. Those closures are the answers of questions 2.1–2.3 and are
//! private to the crate, so that a notebook cannot hand them in as its own; this
//! module returns only what they print.

use super::{compose, make_adder, make_counter};

/// French lines: a counter (`FnMut`) called three times, and `compose(x + 10, 2x)`
/// applied to 5.
pub fn closures_tour() -> String {
    let mut counter = make_counter();
    let first: Vec<u64> = (0..3).map(|_| counter()).collect();
    let double_then_add_ten = compose(make_adder(10), |x: i64| 2 * x);
    format!(
        "Un compteur (FnMut) appelé trois fois : {first:?}\n\
         compose(x + 10, 2x)(5) = {}",
        double_then_add_ten(5)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tour_shows_the_counter_and_the_composition() {
        let text = super::closures_tour();
        assert!(text.contains("[1, 2, 3]"), "{text}");
        assert!(text.contains("compose(x + 10, 2x)(5) = 20"), "{text}");
    }
}
