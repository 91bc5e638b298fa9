use super::*;

fn key(s: &str) -> StageKey {
    s.parse().unwrap()
}

/// The messages for a definition, one line each.
fn refused(text: &str) -> Vec<String> {
    parse_process("sales.toml", text, ProcessVersion(2))
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

const MINIMAL: &str = r#"
key = "inside"
name = "Inside sales"

[criteria]
fit = { label = "Fit confirmed", gate = "fit_access" }

[[stages]]
key = "qualified"
name = "Qualified"
phase = "conversations"
sal = true
entry = ["fit"]
typical_days = 7

[[stages]]
key = "deciding"
name = "Deciding"
phase = "voc_negotiations"
typical_days = 7
"#;

#[test]
fn the_shipped_processes_map_phases_to_categories() {
    use ForecastCategory::*;
    let enterprise = Process::default_enterprise();
    let categories: Vec<_> = enterprise
        .stages()
        .iter()
        .map(|s| enterprise.category_of(&s.key).unwrap())
        .collect();
    assert_eq!(
        categories,
        [Pipeline, Pipeline, BestCase, BestCase, Commit, Commit]
    );
    assert_eq!(enterprise.sal_stage().key, key("qualified"));
    assert!(enterprise.is_qualified(&key("redlining")));

    let smb = Process::default_smb();
    let stages: Vec<_> = smb.stages().iter().map(|s| s.key.as_str()).collect();
    assert_eq!(stages, ["qualified", "trialling", "ordering"]);
    assert_eq!(smb.category_of(&key("trialling")), Some(BestCase));
    assert_eq!(smb.stage(&key("ordering")).unwrap().probability, Some(80));
}

#[test]
fn a_minimal_definition_gets_default_categories() {
    let process = parse_process("inside.toml", MINIMAL, ProcessVersion(2)).unwrap();
    assert_eq!(process.key.as_str(), "inside");
    assert_eq!(process.version, ProcessVersion(2));
    assert_eq!(
        process.category_of(&key("deciding")),
        Some(ForecastCategory::Commit)
    );
    let qualified = process.stage(&key("qualified")).unwrap();
    assert_eq!(qualified.entry, ["fit".parse::<CriterionKey>().unwrap()]);
    assert_eq!(qualified.probability, None);
}

#[test]
fn a_phase_can_count_in_another_category() {
    let text = MINIMAL.replace(
        "[criteria]",
        "[categories]\nvoc_negotiations = \"best_case\"\n\n[criteria]",
    );
    let process = parse_process("inside.toml", &text, ProcessVersion(1)).unwrap();
    assert_eq!(
        process.category_of(&key("deciding")),
        Some(ForecastCategory::BestCase)
    );
    let closed = MINIMAL.replace(
        "[criteria]",
        "[categories]\nconversations = \"closed\"\n\n[criteria]",
    );
    assert_eq!(
        refused(&closed),
        [
            "sales.toml:6:17: categories.conversations: `closed` is not accepted: one of pipeline, \
          best_case, commit, omitted"
        ]
    );
}

#[test]
fn an_unknown_phase_is_located() {
    let text = MINIMAL.replace(r#"phase = "voc_negotiations""#, r#"phase = "closing""#);
    assert_eq!(
        refused(&text),
        [
            "sales.toml:19:9: stages[1].phase: `closing` is not accepted: one of conversations, \
          funded_projects, voc_negotiations"
        ]
    );
}

#[test]
fn a_criterion_naming_an_unknown_field_is_located() {
    let text = MINIMAL.replace(
        r#"fit = { label = "Fit confirmed", gate = "fit_access" }"#,
        r#"fit = { label = "Fit confirmed", field = "budget_owner" }"#,
    );
    assert_eq!(
        refused(&text),
        [
            "sales.toml:6:42: criteria.fit.field: `budget_owner` is not accepted: a deal field: \
          one of amount, next_step, competitor, source, segment"
        ]
    );
}

#[test]
fn two_sal_stages_are_refused() {
    let text = MINIMAL.replace(
        "phase = \"voc_negotiations\"\n",
        "phase = \"voc_negotiations\"\nsal = true\n",
    );
    assert_eq!(
        refused(&text),
        [
            "sales.toml:20:7: stages[1].sal: another stage is already the SAL stage; a process \
          has exactly one"
        ]
    );
    let none = MINIMAL.replace("sal = true\n", "");
    let errors = refused(&none);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("no stage is marked `sal = true`"),
        "{errors:?}"
    );
}

#[test]
fn criteria_that_refer_to_each_other_in_a_cycle_are_refused() {
    let text = MINIMAL.replace(
        r#"fit = { label = "Fit confirmed", gate = "fit_access" }"#,
        "fit = { label = \"Fit confirmed\", all = [\"access\"] }\n\
         access = { label = \"Access to power\", any = [\"fit\", \"need\"] }\n\
         need = { label = \"Need stated\", scorecard = \"bant.need\", at_least = 1 }",
    );
    assert_eq!(
        refused(&text),
        [
            "sales.toml:7:45: criteria.access: criteria refer to each other in a cycle: \
          access → fit → access"
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = MINIMAL
        .replace(r#"entry = ["fit"]"#, r#"entry = ["fitt"]"#)
        .replace(
            "typical_days = 7\n\n[[stages]]",
            "typical_days = 0\n\n[[stages]]",
        )
        .replace(r#"key = "deciding""#, r#"key = "qualified""#);
    assert_eq!(
        refused(&text),
        [
            "sales.toml:13:10: stages[0].entry: `fitt` is not accepted: a criterion declared \
             under [criteria]",
            "sales.toml:14:16: stages[0].typical_days: `0` is not accepted: a whole number \
             from 1 to 730",
            "sales.toml:17:7: stages[1].key: stage `qualified` is declared twice",
        ]
    );
}

#[test]
fn criteria_are_checked_against_the_evidence_they_name() {
    let bad_score = MINIMAL.replace(
        r#"gate = "fit_access" }"#,
        r#"scorecard = "readiness", at_least = 9 }"#,
    );
    assert_eq!(
        refused(&bad_score),
        [
            "sales.toml:6:70: criteria.fit.at_least: `9` is not accepted: a whole number from 1 \
          to 8"
        ]
    );
    let two_tests = MINIMAL.replace(
        r#"gate = "fit_access" }"#,
        r#"gate = "fit_access", checklist = "x" }"#,
    );
    assert!(refused(&two_tests)[0].ends_with("found gate, checklist"));
    let unknown_item = MINIMAL.replace(r#"gate = "fit_access" }"#, r#"checklist = "nda" }"#);
    assert_eq!(
        refused(&unknown_item),
        [
            "sales.toml:6:46: criteria.fit.checklist: `nda` is not accepted: an item declared \
          under [checklist]"
        ]
    );
}

#[test]
fn toml_syntax_errors_and_unknown_keys_are_located() {
    let errors = refused("key = \"x\"\nname = ");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("sales.toml:2:"), "{errors:?}");
    let errors = refused(&MINIMAL.replace(
        "typical_days = 7\n\n[[stages]]",
        "typical_days = 7\nowner = \"AE\"\n\n[[stages]]",
    ));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("sales.toml:15:1: unknown field `owner`"),
        "{errors:?}"
    );
}

#[test]
fn phases_go_forward() {
    let text = MINIMAL
        .replace(r#"phase = "conversations""#, r#"phase = "funded_projects""#)
        .replace(
            r#"phase = "voc_negotiations""#,
            r#"phase = "conversations""#,
        );
    assert_eq!(
        refused(&text),
        [
            "sales.toml:19:9: stages[1].phase: `conversations` comes before `funded_projects` of \
          stage `qualified`; stages go through the buyer phases in order"
        ]
    );
}

#[test]
fn unknown_stages_are_refused_naming_the_known_ones() {
    let process = Process::default_enterprise();
    assert_eq!(
        process.parse_stage("shortlisted").unwrap(),
        key("shortlisted")
    );
    let error = process.parse_stage("demo_done").unwrap_err();
    assert_eq!(error.value(), "demo_done");
    assert_eq!(
        error.expected(),
        "a stage of the Enterprise process: qualified, business_case, evaluating, \
         shortlisted, negotiating, redlining"
    );
    assert!(process.parse_stage("Not A Key!").is_err());
}

#[test]
fn forward_requirements_cover_skipped_stages_once() {
    let process = Process::default_smb();
    let keys = |from: Option<&str>, to: Option<&str>| -> Vec<String> {
        process
            .forward_requirements(from.map(key).as_ref(), to.map(key).as_ref())
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        keys(Some("qualified"), Some("trialling")),
        ["trial_started"]
    );
    assert_eq!(
        keys(Some("qualified"), Some("ordering")),
        [
            "trial_started",
            "success_criterion",
            "trial_succeeded",
            "amount_set",
            "order_form_sent"
        ]
    );
    assert_eq!(keys(Some("ordering"), None), ["order_signed"]);
    assert_eq!(
        keys(None, Some("qualified")),
        ["fit_and_access", "urgent_need", "dated_next_step"]
    );
}

mod sets {
    use super::*;

    fn file(name: &str, text: &str) -> ProcessFile {
        ProcessFile {
            name: name.into(),
            text: text.into(),
        }
    }

    #[test]
    fn the_shipped_set_parses_as_version_one() {
        let shipped = ProcessSet::shipped();
        let parsed = ProcessSet::parse(ProcessVersion(1), shipped_files()).unwrap();
        assert_eq!(parsed, shipped);
        assert_eq!(parsed.default_process().key.as_str(), "enterprise");
        assert!(parsed.changes_since(&shipped).is_empty());
    }

    #[test]
    fn two_files_may_not_define_the_same_process() {
        let errors = ProcessSet::parse(
            ProcessVersion(2),
            vec![file("a.toml", MINIMAL), file("b.toml", MINIMAL)],
        )
        .unwrap_err();
        assert_eq!(
            errors.to_string(),
            "b.toml:2:1: key: process `inside` is already defined by another file (a.toml)"
        );
    }

    #[test]
    fn file_names_are_unique_and_a_new_default_process_is_a_change() {
        let twice = ProcessSet::parse(
            ProcessVersion(2),
            vec![
                file("a.toml", MINIMAL),
                file("a.toml", super::super::SMB_TOML),
            ],
        )
        .unwrap_err();
        assert_eq!(
            twice.to_string(),
            "a.toml:1:1: another file of the set has the same name"
        );
        let before = ProcessSet::shipped();
        let swapped = shipped_files().into_iter().rev().collect();
        let after = ProcessSet::parse(ProcessVersion(2), swapped).unwrap();
        assert_eq!(
            after.changes_since(&before),
            ["default process changed from `enterprise` to `smb`"]
        );
    }

    #[test]
    fn errors_in_any_file_refuse_the_whole_set() {
        let broken = MINIMAL.replace(r#"phase = "voc_negotiations""#, r#"phase = "closing""#);
        let errors = ProcessSet::parse(
            ProcessVersion(2),
            vec![
                file("enterprise.toml", super::super::ENTERPRISE_TOML),
                file("inside.toml", &broken),
            ],
        )
        .unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].file, "inside.toml");
        assert!(ProcessSet::parse(ProcessVersion(2), vec![]).is_err());
    }

    #[test]
    fn changes_between_versions_are_described() {
        let before =
            ProcessSet::parse(ProcessVersion(1), vec![file("inside.toml", MINIMAL)]).unwrap();
        let edited = MINIMAL
            .replace(
                "typical_days = 7\n\n[[stages]]",
                "typical_days = 10\n\n[[stages]]",
            )
            .replace(
                r#"fit = { label = "Fit confirmed", gate = "fit_access" }"#,
                "fit = { label = \"Fit confirmed\", gate = \"fit_access\" }\n\
                 plan = { label = \"Plan agreed\", mutual_action_plan = \"agreed\" }",
            )
            .replace(
                "typical_days = 7\n",
                "typical_days = 7\nexit = [\"plan\"]\n",
            );
        let after = ProcessSet::parse(
            ProcessVersion(2),
            vec![
                file("inside.toml", &edited),
                file("smb.toml", super::super::SMB_TOML),
            ],
        )
        .unwrap();
        assert_eq!(
            after.changes_since(&before),
            [
                "inside: stage `qualified` changed: typical days",
                "inside: stage `deciding` changed: exit criteria",
                "inside: criterion `plan` added",
                "process `smb` added",
            ]
        );
        assert_eq!(
            after.get(&"smb".parse().unwrap()).unwrap().version,
            ProcessVersion(2)
        );
    }
}

#[test]
fn the_documented_example_process_is_valid() {
    let page = include_str!("../../../../docs/process.md");
    let process = parse_process(
        "inside.toml",
        crate::testing::toml_example(page),
        ProcessVersion(1),
    )
    .unwrap();
    assert_eq!(process.stages().len(), 1);
    assert_eq!(process.criteria().count(), 11);
}
