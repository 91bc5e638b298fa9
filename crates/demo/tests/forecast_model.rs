//! The forecast's deal model on the demo history, whose outcomes follow a known model: out of
//! sample it must score deals better than the scorers open-source CRMs use.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

use pipewise_analytics::Projection;
use pipewise_analytics::forecast::evaluate;
use pipewise_analytics::reports::end_of;
use pipewise_core::exchange::ExchangeRates;
use pipewise_core::money::Currency;
use pipewise_core::process::ProcessSet;
use pipewise_demo::{DemoConfig, Generator};

#[test]
fn the_deal_model_beats_fixed_stage_probabilities_and_naive_bayes_out_of_sample() {
    let generator = Generator::new(DemoConfig {
        seed: 11,
        opportunities: 4_000,
        as_of: "2026-11-23".parse().unwrap(),
        slug: "demo".parse().unwrap(),
    })
    .unwrap();
    let chunks: Vec<_> = generator.collect::<Result<_, _>>().unwrap();
    let events = chunks
        .iter()
        .flat_map(|c| &c.batch.opportunities)
        .flat_map(|o| &o.events);
    let processes = ProcessSet::shipped();
    let projection = Projection::build([&processes], events).unwrap();
    let evaluation = evaluate(
        &projection,
        &processes,
        end_of("2026-05-23".parse().unwrap()),
        end_of("2026-11-23".parse().unwrap()),
        &ExchangeRates::new(Currency::USD),
    )
    .unwrap();
    assert!(
        evaluation.training_rows > 5_000 && evaluation.test_rows > 2_000,
        "{evaluation:?}"
    );
    let [model, fixed, bayes] = &evaluation.scores[..] else {
        panic!("three scorers: {evaluation:?}");
    };
    assert_eq!(model.scorer, "deal model");
    assert!(
        model.brier < fixed.brier && model.brier < bayes.brier,
        "{evaluation:?}"
    );
    assert!(
        model.log_loss < fixed.log_loss && model.log_loss < bayes.log_loss,
        "{evaluation:?}"
    );
    // Better than always saying the base rate, which scores p(1 − p) ≤ 0.25.
    assert!(model.brier < 0.22, "{evaluation:?}");
}
