use std::collections::BTreeMap;

use super::super::fixtures;
use super::caiq::is_caiq_id;
use super::hecvat::{hecvat_version_text, is_hecvat_id};
use super::mapped::column_index;
use super::*;
use crate::domain::questionnaires::{Answer, Template, YesNo};

fn shipped(id: &str) -> Template {
    crate::domain::questionnaires::shipped()
        .expect("shipped templates load")
        .into_iter()
        .find(|template| template.id == id)
        .expect("template is shipped")
}

fn answer(id: &str, value: ExternalValue) -> ExternalAnswer {
    ExternalAnswer {
        source_id: id.to_owned(),
        answer: value,
        comment: None,
        cell: "x!A1".to_owned(),
    }
}

fn ids_and_values(answers: &[ExternalAnswer]) -> Vec<(&str, ExternalValue)> {
    answers
        .iter()
        .map(|a| (a.source_id.as_str(), a.answer))
        .collect()
}

fn asked(family: Family, version: Option<&'static str>) -> Asked {
    Asked { family, version }
}

const CAIQ: Asked = Asked {
    family: Family::Caiq,
    version: None,
};
const HECVAT: Asked = Asked {
    family: Family::Hecvat,
    version: None,
};
const NIST: Asked = Asked {
    family: Family::Nist,
    version: None,
};

fn through(version: &str) -> Through<'_> {
    Through::version(version).expect("a shipped crosswalk")
}

/// (question, answer token) of what the crosswalk filled.
fn filled(result: &CrosswalkResult) -> Vec<(&str, String)> {
    result
        .filled
        .iter()
        .map(|(id, d)| {
            (
                id.as_str(),
                d.answer.to_json().as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn hints(result: &CrosswalkResult) -> Vec<(&str, &str, &str)> {
    result
        .hints
        .iter()
        .map(|h| (h.question_id.as_str(), h.source.as_str(), h.answer.token()))
        .collect()
}

use ExternalValue::{Na, No, Yes};

#[test]
fn a_caiq_v4_is_read_past_its_title_merged_cells_and_trailing_lines() {
    let bytes = fixtures::caiq_v4(&[
        ("A&A-02.1", "Yes", "Yearly independent audit."),
        ("BCR-08.1", "yes", ""),
        ("BCR-08.2", "No", "Restores are not tested."),
        ("BCR-08.3", "NA", ""),
        ("IAM-14.1", "Yes", "MFA for every user through SSO."),
        ("LOG-08.1", "", ""),
    ]);
    let got = read(&bytes, &CAIQ).expect("read");
    assert_eq!(got.version, "caiq-v4");
    assert!(got.how.contains("sheet \"CAIQv4.0.3\""), "{}", got.how);
    let answers = got.answers;
    assert_eq!(
        ids_and_values(&answers),
        [
            ("A&A-02.1", Yes),
            ("BCR-08.1", Yes),
            ("BCR-08.2", No),
            ("BCR-08.3", Na),
            ("IAM-14.1", Yes)
        ]
    );
    assert_eq!(answers[0].cell, "CAIQv4.0.3!C3");
    assert_eq!(
        answers[0].comment.as_deref(),
        Some("Yearly independent audit.")
    );
    assert_eq!(answers[1].comment, None);
}

#[test]
fn a_caiq_answer_outside_yes_no_na_is_reported_by_cell() {
    let bytes = fixtures::caiq_v4(&[("IAM-14.1", "Partially", ""), ("LOG-08.1", "Maybe", "")]);
    let failure = read(&bytes, &asked(Family::Caiq, Some("caiq-v4"))).expect_err("refused");
    assert_eq!(
        failure,
        Failure::Cells(vec![
            FieldError::new("CAIQv4.0.3!C3", "\"Partially\" is not one of Yes, No, NA"),
            FieldError::new("CAIQv4.0.3!C4", "\"Maybe\" is not one of Yes, No, NA"),
        ])
    );
}

#[test]
fn a_caiq_v3_0_1_is_read_from_its_marks_and_told_by_its_title() {
    let bytes = fixtures::caiq_v3(
        "CONSENSUS ASSESSMENTS INITIATIVE QUESTIONNAIRE v3.0.1",
        &[
            ("AIS-01.1", "yes", "We follow an SDLC standard."),
            ("AIS- 02.2", "no", ""),
            ("EKM-03.1", "na", ""),
            ("IAM-12.1", "", ""),
            ("SEF-02.1", "yes", ""),
        ],
    );
    let got = read(&bytes, &CAIQ).expect("read");
    assert_eq!(got.version, "caiq-v3.0.1");
    assert!(
        got.how.contains("sheet \"CAIQ\" names version 3.0.1"),
        "{}",
        got.how
    );
    assert_eq!(
        ids_and_values(&got.answers),
        [
            ("AIS-01.1", Yes),
            ("AIS-02.2", No),
            ("EKM-03.1", Na),
            ("SEF-02.1", Yes)
        ]
    );
    assert_eq!(got.answers[0].cell, "CAIQ!F5");
    assert_eq!(got.answers[1].cell, "CAIQ!G6");
    assert_eq!(
        got.answers[0].comment.as_deref(),
        Some("We follow an SDLC standard.")
    );
}

#[test]
fn a_caiq_v3_1_is_read_in_its_published_layout_and_told_by_its_sheet_name() {
    let bytes = fixtures::caiq_v3_1(&[
        ("AIS-01.1", "yes", "We follow an SDLC standard."),
        ("AIS-01.2", "no", ""),
        ("AIS-02.1", "", ""),
        ("STA-05.6", "na", ""),
        ("STA-05.10", "yes", ""),
    ]);
    let got = read(&bytes, &CAIQ).expect("read");
    // Its header says "CCM v3.0.1 Compliance Mapping": the controls' version, not the questionnaire's.
    assert_eq!(got.version, "caiq-v3.1");
    assert!(
        got.how
            .contains("sheet \"CAIQ v3.1\" names version 3.1 (Yes / No / Not Applicable"),
        "{}",
        got.how
    );
    assert_eq!(
        ids_and_values(&got.answers),
        [
            ("AIS-01.1", Yes),
            ("AIS-01.2", No),
            ("STA-05.6", Na),
            ("STA-05.10", Yes)
        ]
    );
    let cells: Vec<&str> = got.answers.iter().map(|a| a.cell.as_str()).collect();
    assert_eq!(
        cells,
        [
            "'CAIQ v3.1'!W5",
            "'CAIQ v3.1'!X6",
            "'CAIQ v3.1'!Y8",
            "'CAIQ v3.1'!W9"
        ]
    );
    assert_eq!(
        got.answers[0].comment.as_deref(),
        Some("We follow an SDLC standard.")
    );

    // Asked for by version, it is read; asked for as v3.0.1, the mismatch is named.
    let asked_v3_1 = asked(Family::Caiq, Some("caiq-v3.1"));
    assert_eq!(
        read(&bytes, &asked_v3_1).expect("read").version,
        "caiq-v3.1"
    );
    let Err(Failure::Mismatch { asked, found }) =
        read(&bytes, &asked(Family::Caiq, Some("caiq-v3.0.1")))
    else {
        panic!("refused");
    };
    assert_eq!(
        (asked.as_str(), found.version.as_str()),
        ("caiq-v3.0.1", "caiq-v3.1")
    );
}

#[test]
fn a_caiq_v3_naming_no_version_is_told_only_by_ids_one_version_alone_has() {
    let version_of = |rows: &[(&str, &str, &str)]| match read(
        &fixtures::caiq_v3("Questionnaire", rows),
        &CAIQ,
    ) {
        Ok(got) => (got.version, got.how),
        Err(Failure::NoCrosswalk { found }) => (found.version, found.how),
        Err(other) => panic!("{other:?}"),
    };

    // DSI-01.7 is v3.0.1's alone (v3.1 moved it to STA-05.9).
    let (version, how) = version_of(&[("AIS-01.1", "yes", ""), ("DSI-01.7", "no", "")]);
    assert_eq!(version, "caiq-v3.0.1");
    assert!(
        how.contains(
            "its 2 question IDs are all CAIQ v3.0.1's, 1 of them v3.0.1's alone (DSI-01.7)"
        ),
        "{how}"
    );

    // STA-05.6 is v3.1's alone.
    let (version, how) = version_of(&[("AIS-01.1", "yes", ""), ("STA-05.6", "no", "")]);
    assert_eq!(version, "caiq-v3.1");
    assert!(
        how.contains("its 2 question IDs are all CAIQ v3.1's, 1 of them v3.1's alone (STA-05.6)"),
        "{how}"
    );

    // IDs both versions list (GRM-06.1 asks something else in each): not guessed.
    let (version, how) = version_of(&[("AIS-01.1", "yes", ""), ("GRM-06.1", "no", "")]);
    assert_eq!(version, "caiq-v3");
    assert!(
        how.contains("all of its 2 question IDs are in both CAIQ v3.0.1 and v3.1"),
        "{how}"
    );

    // A mix of the two, or an ID of neither: not guessed either.
    let (version, how) = version_of(&[("DSI-01.7", "yes", ""), ("STA-05.6", "no", "")]);
    assert_eq!(version, "caiq-v3");
    assert!(
        how.contains("mix CAIQ v3.0.1's (DSI-01.7) and v3.1's (STA-05.6)"),
        "{how}"
    );
    let (version, how) = version_of(&[("AIS-01.1", "yes", ""), ("AIS-01.6", "no", "")]);
    assert_eq!(version, "caiq-v3");
    assert!(
        how.contains("question IDs of neither CAIQ v3.0.1 nor v3.1 (1 of 2, first AIS-01.6)"),
        "{how}"
    );

    // A title naming the version settles it; another standard's version in it does not.
    let rows = [("AIS-01.1", "yes", ""), ("GRM-06.1", "no", "")];
    for (title, version) in [
        ("CAIQ v3.1", "caiq-v3.1"),
        ("CAIQ_v3.1_Final", "caiq-v3.1"),
        (
            "Consensus Assessments Initiative Questionnaire v3.0.1",
            "caiq-v3.0.1",
        ),
        ("CCM v3.0.1 Compliance Mapping", "caiq-v3"),
        ("HITRUST CSF v8.1, PCI DSS v3.2", "caiq-v3"),
    ] {
        let found = match read(&fixtures::caiq_v3(title, &rows), &CAIQ) {
            Ok(got) => got.version,
            Err(Failure::NoCrosswalk { found }) => found.version,
            Err(other) => panic!("{other:?}"),
        };
        assert_eq!(found, version, "{title}");
    }
}

#[test]
fn a_caiq_v3_row_marked_twice_is_reported_naming_both_cells() {
    let bytes = fixtures::caiq_v3("CAIQ v3.0.1", &[("AIS-01.1", "yes", "")]);
    // Mark No as well, by building the sheet with the mapping reader's layout: the reader sees two marks.
    let mut book = Workbook::open(&bytes).unwrap();
    let (_, range) = &mut book.sheets[0];
    range.set_value((4, 6), Data::String("X".into()));
    let mut out = Collector::default();
    read_caiq_v3(&book, &mut out).unwrap();
    assert_eq!(
        out.finish().unwrap_err(),
        [FieldError::new(
            "CAIQ!F5",
            "marked as Yes and No at once (CAIQ!F5, CAIQ!G5); mark one"
        )]
    );
}

#[test]
fn asking_for_one_format_or_version_and_sending_another_is_named() {
    let hecvat = fixtures::hecvat_v4(&[("HFIH-01", "Yes", "")]);
    let Err(Failure::Mismatch { asked, found }) = read(&hecvat, &CAIQ) else {
        panic!("refused");
    };
    assert_eq!(
        (asked.as_str(), found.version.as_str()),
        ("caiq", "hecvat-4")
    );

    let v3 = fixtures::caiq_v3("CAIQ v3.0.1", &[("AIS-01.1", "yes", "")]);
    let Err(Failure::Mismatch { asked, found }) = read(&v3, &asked_v4()) else {
        panic!("refused");
    };
    assert_eq!(
        (asked.as_str(), found.version.as_str()),
        ("caiq-v4", "caiq-v3.0.1")
    );

    let plain = fixtures::cis_worksheet("Revision 5", &[]);
    let Err(Failure::Mismatch { found, .. }) = read(&plain, &HECVAT) else {
        panic!("refused");
    };
    assert_eq!(found.version, "nist-800-53r5");

    let mut nothing = rust_xlsxwriter::Workbook::new();
    nothing.add_worksheet().set_name("Notes").unwrap();
    let nothing = nothing.save_to_buffer().unwrap();
    let Err(Failure::NotFound { message, .. }) = read(&nothing, &HECVAT) else {
        panic!("refused");
    };
    assert_eq!(
        message,
        "no EDUCAUSE HECVAT layout found; its sheets are \"Notes\""
    );
}

fn asked_v4() -> Asked {
    asked(Family::Caiq, Some("caiq-v4"))
}

#[test]
fn a_hecvat_3_is_refused_by_name_for_want_of_a_crosswalk() {
    let bytes = fixtures::hecvat_v3(&[("DOCU-03", "Yes", ""), ("HFIH-01", "N/A", "")]);
    let Err(Failure::NoCrosswalk { found }) = read(&bytes, &HECVAT) else {
        panic!("refused");
    };
    assert_eq!(found.version, "hecvat-3");
    assert_eq!(
        found.how,
        "sheet \"HECVAT - Full\" with \"Vendor Answers\" blocks (HECVAT 3 Full)"
    );
    assert!(matches!(
        read(&bytes, &asked(Family::Hecvat, Some("hecvat-4"))),
        Err(Failure::Mismatch { .. })
    ));
    let on_prem = fixtures::hecvat_v3_sheet(
        "HECVAT - On-Prem",
        "HECVAT On-Prem",
        &[("DOCU-03", "Yes", "")],
    );
    let Err(Failure::NoCrosswalk { found }) = read(&on_prem, &HECVAT) else {
        panic!("refused");
    };
    assert_eq!(
        (found.version.as_str(), found.how.as_str()),
        (
            "hecvat-3",
            "sheet \"HECVAT - On-Prem\" with \"Vendor Answers\" blocks (HECVAT 3 On-Prem)"
        )
    );
}

#[test]
fn a_hecvat_3_sheet_renamed_to_name_no_edition_is_told_lite_by_its_own_ids() {
    let rows = [("HLDA-03", "No", "")];
    let renamed = fixtures::hecvat_v3_sheet("HECVAT", "HECVAT", &rows);
    let got = read(&renamed, &HECVAT).expect("read");
    assert_eq!(got.version, "hecvat-3-lite");
    assert!(got.how.contains("(HECVAT 3 Lite)"), "{}", got.how);
    let full = fixtures::hecvat_v3_sheet("HECVAT", "HECVAT", &[("DATA-03", "Yes", "")]);
    let Err(Failure::NoCrosswalk { found }) = read(&full, &HECVAT) else {
        panic!("refused");
    };
    assert!(found.how.contains("(HECVAT 3 Full)"), "{}", found.how);
}

#[test]
fn a_hecvat_lite_3_06_is_read_and_other_lite_versions_are_refused_by_name() {
    let rows = [("HLDA-02", "Yes", ""), ("DOCU-10", "No", "")];
    let named = fixtures::hecvat_lite_3("HECVAT - Lite | Version 3.06 (synthetic)", &rows);
    let got = read(&named, &HECVAT).expect("read");
    assert_eq!(got.version, "hecvat-3-lite");
    assert_eq!(
        got.how,
        "sheet \"HECVAT - Lite\" with \"Vendor Answers\" blocks (HECVAT 3 Lite, version 3.06 named in the \
         workbook); all of its 4 question IDs are HECVAT Lite 3.06's"
    );
    assert_eq!(got.answers.len(), 2, "GNRL-01 and GNRL-02 are free text");
    // Without a version named, the IDs alone decide.
    let unnamed = fixtures::hecvat_lite_3("HECVAT Lite (synthetic)", &rows);
    assert_eq!(read(&unnamed, &HECVAT).unwrap().version, "hecvat-3-lite");
    assert!(matches!(
        read(&named, &asked(Family::Hecvat, Some("hecvat-4"))),
        Err(Failure::Mismatch { .. })
    ));

    // Lite 2.x reuses the HL IDs for other questions: refused by the version it names...
    let older = fixtures::hecvat_lite_3("HECVAT - Lite | Version 2.11", &rows);
    let Err(Failure::NoCrosswalk { found }) = read(&older, &HECVAT) else {
        panic!("refused");
    };
    assert_eq!(found.version, "hecvat-lite");
    assert!(
        found.how.ends_with(
            "(HECVAT 3 Lite, version 2.11 named in the workbook); only Lite 3.06's question \
             IDs have been reviewed"
        ),
        "{}",
        found.how
    );
    // ... or, naming none, by an ID Lite 3.06 does not have.
    let other = fixtures::hecvat_lite_3(
        "HECVAT Lite (synthetic)",
        &[("HLDA-02", "Yes", ""), ("HLCP-01", "Yes", "")],
    );
    let Err(Failure::NoCrosswalk { found }) = read(&other, &HECVAT) else {
        panic!("refused");
    };
    assert_eq!(found.version, "hecvat-lite");
    assert!(
        found.how.ends_with("1 of its 4 question IDs (first HLCP-01) are not HECVAT Lite 3.06's, so it is another Lite version"),
        "{}",
        found.how
    );
}

#[test]
fn a_hecvat_4_is_read_across_tabs_hidden_ones_and_formula_cells_included() {
    let bytes = fixtures::hecvat_v4(&[
        ("DOCU-03", "Yes", "Report attached."),
        ("DOCU-07", "No", ""),
        ("AAAI-01", "Yes", ""),
        ("AAAI-09", "Yes", ""),
        ("DCTR-14", "N/A", ""),
        ("GNRL-01", "Example Vendor Inc.", ""),
    ]);
    let got = read(&bytes, &HECVAT).expect("read");
    assert_eq!(got.version, "hecvat-4");
    assert!(
        got.how.starts_with("HECVAT 4.1.4 named on the start sheet"),
        "{}",
        got.how
    );
    assert_eq!(
        ids_and_values(&got.answers),
        [
            ("DOCU-03", Yes),
            ("DOCU-07", No),
            ("AAAI-01", Yes),
            ("AAAI-09", Yes),
            ("DCTR-14", Na)
        ]
    );
    // DOCU-07 and AAAI-09 sit on hidden rows, DCTR-14 on the hidden tab, and DOCU-03 is repeated there too;
    // the hidden "Questions" sheet's preferred answers (all Yes) are not read.
    assert_eq!(got.answers[4].cell, "Infrastructure!C4");
    assert_eq!(
        got.not_a_choice,
        [NotAChoice {
            cell: "Organization!C8".into(),
            text: "Example Vendor Inc.".into()
        }]
    );
    let book = Workbook::open(&bytes).unwrap();
    let (_, organization) = book.sheet("Organization").unwrap();
    assert_eq!(
        organization.get_value((3, 1)),
        Some(&Data::String("Made-up question DOCU-03 for tests?".into())),
        "the question cell is read by its cached formula result"
    );
}

#[test]
fn a_hecvat_id_answered_differently_on_two_tabs_is_reported_naming_both_cells() {
    let bytes = fixtures::hecvat_v4(&[
        ("HLDA-07", "Yes", ""),
        ("DOCU-01", "Yes", ""),
        ("HLDA-07", "No", ""),
    ]);
    let Err(Failure::Cells(errors)) = read(&bytes, &HECVAT) else {
        panic!("refused");
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "Organization!C5");
    assert_eq!(
        errors[0].message,
        "HLDA-07 is answered No here but Yes at Organization!C4; the two answers must agree"
    );
}

#[test]
fn fedramp_ids_are_read_as_nist_controls() {
    for (fedramp, nist) in [
        ("AC-02 (a)", Some("AC-2")),
        ("AC-02 (01)", Some("AC-2(1)")),
        ("AC-02 (07) (a)", Some("AC-2(7)")),
        ("IA-05 (01) (f)", Some("IA-5(1)")),
        ("SC-28", Some("SC-28")),
        ("AC-2(1)", Some("AC-2(1)")),
        ("AC-02 (A)", None),
        ("Control ID", None),
        ("ACC-02", None),
    ] {
        assert_eq!(nist_control(fedramp).as_deref(), nist, "{fedramp}");
    }
}

#[test]
fn a_cis_control_is_answered_from_all_its_parts() {
    let bytes = fixtures::cis_worksheet(
        "Revision 5",
        &[
            ("AC-02 (a)", "B"),
            ("AC-02 (b)", "B"),
            ("AC-02 (01)", "C"),
            ("AC-06", "BF"),
            ("AC-07 (a)", "E"),
            ("AC-07 (b)", "B"),
            ("AU-09", "F"),
            ("IA-02 (01)", "B"),
            ("SI-02 (a)", "B"),
            ("SI-02 (b)", "D"),
            ("SC-13", ""),
        ],
    );
    let got = read(&bytes, &NIST).expect("read");
    assert_eq!(got.version, "nist-800-53r5");
    assert_eq!(
        got.how,
        "FedRAMP CIS worksheet on sheet \"CIS Worksheet\" (Control ID, Implementation Status)"
    );
    assert_eq!(
        ids_and_values(&got.answers),
        [
            ("AC-2", Yes),
            ("AC-2(1)", No),
            ("AC-6", Yes),
            ("AU-9", Na),
            ("IA-2(1)", Yes),
            ("SI-2", No)
        ]
    );
    assert_eq!(got.answers[0].cell, "'CIS Worksheet'!B4");
    assert_eq!(
        got.not_a_choice,
        [NotAChoice {
            cell: "'CIS Worksheet'!B8".into(),
            text: "AC-7: alternative implementation".into()
        }]
    );
}

fn cis_worksheet() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/cloud.gov-CIS-Worksheet.xlsx"
    );
    std::fs::read(path).unwrap_or_else(|error| {
        panic!(
            "{path} cannot be read ({error}); the real fixtures live in shared/fixtures/real/ beside the \
             checkout (see its README)"
        )
    })
}

#[test]
fn the_real_cis_worksheet_is_read_as_nist_800_53r5_and_fills_the_baselines() {
    let got = read(&cis_worksheet(), &NIST).expect("read");
    assert_eq!(got.version, "nist-800-53r5");
    assert!(
        got.how.contains("names SP 800-53 Revision 4"),
        "{}",
        got.how
    );
    // 616 rows: parts of one control count once.
    assert_eq!(got.answers.len() + got.not_a_choice.len(), 325);

    // The answer key, read off the worksheet by hand: every part of each of these controls is marked
    // Implemented (AC-7 has a part implemented another way, so it is not derived).
    let city = map_to_template(
        &shipped("city-baseline"),
        &got.answers,
        through("nist-800-53r5"),
    );
    assert_eq!(
        filled(&city),
        [
            ("BCK-01", "yes".into()),
            ("DEV-01", "yes".into()),
            ("IAM-04", "yes".into()),
            ("INC-01", "yes".into()),
            ("LOG-05", "yes".into()),
            ("VUL-02", "yes".into()),
        ]
    );
    assert!(city.conflicts.is_empty(), "{:?}", city.conflicts);
    assert!(hints(&city).contains(&("IAM-03", "nist-800-53r5:IA-2(2)", "yes")));

    let wisp = map_to_template(
        &shipped("ma-201-cmr-17"),
        &got.answers,
        through("nist-800-53r5"),
    );
    assert_eq!(
        filled(&wisp),
        [
            ("ACC-01", "yes".into()),
            ("ACC-02", "yes".into()),
            ("AUTH-01", "yes".into()),
            ("ENC-01", "yes".into()),
            ("ENC-03", "yes".into()),
            ("PROV-03", "yes".into()),
            ("SYS-01", "yes".into()),
            ("SYS-03", "yes".into()),
            ("SYS-04", "yes".into()),
            ("WISP-06", "yes".into()),
            ("WISP-11", "yes".into()),
        ]
    );
    assert!(
        !wisp.filled.contains_key("AUTH-05"),
        "AC-7 is an alternative implementation"
    );
}

fn cis_mapping(yes: &str, no: Option<&str>, na: Option<&str>) -> Mapping {
    Mapping {
        sheet: "cis worksheet".into(),
        header_row: 3,
        id_column: "A".into(),
        yes_column: Some(yes.into()),
        no_column: no.map(Into::into),
        na_column: na.map(Into::into),
        ..Mapping::default()
    }
}

#[test]
fn the_real_cis_worksheet_is_read_through_a_mapping_of_its_x_marks() {
    let bytes = cis_worksheet();
    let got = read_mapped(&bytes, &cis_mapping("B", Some("C"), None)).expect("read");
    assert_eq!(got.answers.len(), 589);
    assert_eq!(got.answers[0].source_id, "AC-01 (a)");
    assert_eq!(got.answers[0].cell, "'CIS Worksheet'!B4");
    assert_eq!(got.answers.iter().filter(|a| a.answer == No).count(), 1);

    // Ten rows are marked both Implemented and N/A: each is named, none guessed.
    let Err(Failure::Cells(errors)) = read_mapped(&bytes, &cis_mapping("B", Some("C"), Some("F")))
    else {
        panic!("refused");
    };
    assert_eq!(errors.len(), 10);
    assert!(
        errors[0]
            .message
            .starts_with("marked as Yes and N/A at once"),
        "{}",
        errors[0].message
    );

    // Its IDs are no question IDs of ours: all unmapped, none filled.
    let crosswalk = map_to_template(&shipped("city-baseline"), &got.answers, Through::OwnIds);
    assert!(crosswalk.filled.is_empty());
    assert_eq!(crosswalk.unmapped.len(), 589);
}

#[test]
fn a_mapping_skips_free_text_and_names_its_own_mistakes_by_parameter() {
    let bytes = cis_worksheet();
    // Column G holds the origination text: no answer words match, so every cell is skipped as not a choice.
    let mapping = Mapping {
        sheet: "CIS Worksheet".into(),
        header_row: 3,
        id_column: "A".into(),
        answer_column: Some("B".into()),
        answer_words: [("Implemented".to_owned(), "yes".to_owned())].into(),
        ..Mapping::default()
    };
    let got = read_mapped(&bytes, &mapping).expect("free text is no error");
    assert!(got.answers.is_empty());
    assert_eq!(got.not_a_choice.len(), 588, "every row marked Implemented");
    assert_eq!(
        got.not_a_choice[0],
        NotAChoice {
            cell: "'CIS Worksheet'!B4".into(),
            text: "X".into()
        }
    );

    let wrong = Mapping {
        sheet: "Nope".into(),
        header_row: 0,
        id_column: "1B".into(),
        answer_column: Some("C".into()),
        yes_column: Some("B".into()),
        answer_words: [("X".to_owned(), "sometimes".to_owned())].into(),
        id_space: Some("caiq-v9".into()),
        ..Mapping::default()
    };
    let Err(Failure::Cells(errors)) = read_mapped(&bytes, &wrong) else {
        panic!("refused");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "answer_column",
            "answer_words.X",
            "header_row",
            "id_column",
            "id_space",
            "sheet"
        ]
    );
    assert!(
        errors[5].message.contains("\"CIS Worksheet\""),
        "{}",
        errors[5].message
    );
}

#[test]
fn answer_words_take_escapes_or_json() {
    assert_eq!(
        parse_answer_words(
            "answer_words",
            r"Yes\, with exceptions=no, Implemented = yes,a\=b=na"
        )
        .unwrap(),
        BTreeMap::from([
            ("Implemented".to_owned(), "yes".to_owned()),
            ("Yes, with exceptions".to_owned(), "no".to_owned()),
            ("a=b".to_owned(), "na".to_owned()),
        ])
    );
    assert_eq!(
        parse_answer_words("answer_words", r#"{"Yes, with exceptions": "no"}"#).unwrap(),
        BTreeMap::from([("Yes, with exceptions".to_owned(), "no".to_owned())])
    );
    let errors = parse_answer_words("answer_words", "Yes, with exceptions=no").unwrap_err();
    assert_eq!(errors[0].field, "answer_words");
    assert!(
        errors[0].message.starts_with("\"Yes\" is not word=meaning"),
        "{}",
        errors[0].message
    );
    assert!(parse_answer_words("answer_words", "{not json").is_err());
}

/// Answer keys: a synthetic file of each supported version, in that version's real layout, answering IDs the
/// crosswalk links (and some it does not), with the answers our questions must get, written out by hand.
#[test]
fn the_caiq_v4_answer_key() {
    let bytes = fixtures::caiq_v4(&[
        ("A&A-02.1", "Yes", "Yearly audit."),
        ("BCR-08.1", "NA", ""),
        ("CCC-01.1", "Yes", ""),
        ("IAM-14.1", "Yes", "MFA via SSO."),
        ("IVS-05.1", "No", ""),
        ("LOG-08.1", "No", ""),
        ("LOG-09.1", "Yes", ""),
        ("SEF-03.1", "Yes", "Plan reviewed yearly."),
        ("SEF-04.1", "No", ""),
        ("TVM-07.1", "Yes", ""),
    ]);
    let got = read(&bytes, &CAIQ).unwrap();
    let result = map_to_template(&shipped("city-baseline"), &got.answers, through("caiq-v4"));
    assert_eq!(
        filled(&result),
        [
            ("ASR-01", "yes".into()),
            ("DEV-05", "no".into()),
            ("IAM-04", "yes".into()),
            ("INC-01", "yes".into()),
            ("LOG-05", "yes".into()),
            ("VUL-01", "yes".into()),
        ]
    );
    assert_eq!(result.filled["IAM-04"].sources, ["caiq-v4:IAM-14.1"]);
    assert_eq!(
        result.filled["IAM-04"].comment.as_deref(),
        Some("MFA via SSO.")
    );
    assert_eq!(
        hints(&result),
        [
            ("IAM-03", "caiq-v4:IAM-14.1", "yes"),
            ("LOG-01", "caiq-v4:LOG-08.1", "no"),
            ("INC-02", "caiq-v4:SEF-04.1", "no"),
        ]
    );
    assert_eq!(result.unmapped, ["CCC-01.1"]);
    assert_eq!(result.conflicts.len(), 1);
    assert_eq!(result.conflicts[0].question_id, "BCK-01");
    assert!(result.conflicts[0].reason.contains("does not allow"));
}

#[test]
fn the_caiq_v3_0_1_answer_key() {
    let bytes = fixtures::caiq_v3(
        "CAIQ v3.0.1",
        &[
            ("AIS-01.5", "yes", ""),
            ("BCR-11.5", "no", ""),
            ("EKM-03.1", "yes", "AES-256 at rest."),
            ("IAM-12.1", "yes", ""),
            ("IAM-12.6", "no", ""),
            ("IVS-08.3", "yes", ""),
            ("SEF-02.1", "yes", ""),
            ("SEF-02.4", "no", ""),
            ("MOS-01.1", "yes", ""),
        ],
    );
    let got = read(&bytes, &CAIQ).unwrap();
    let result = map_to_template(
        &shipped("city-baseline"),
        &got.answers,
        through("caiq-v3.0.1"),
    );
    assert_eq!(
        filled(&result),
        [
            ("BCK-04", "no".into()),
            ("DEV-02", "yes".into()),
            ("DEV-05", "yes".into()),
            ("ENC-02", "yes".into()),
            ("IAM-01", "yes".into()),
            ("INC-01", "yes".into()),
            ("INC-02", "no".into()),
        ]
    );
    assert_eq!(hints(&result), [("IAM-03", "caiq-v3.0.1:IAM-12.6", "no")]);
    assert_eq!(result.unmapped, ["MOS-01.1"]);
}

/// CAIQ v3.1 kept many v3.0.1 IDs but changed what some ask: each trap below is an ID whose v3.0.1 meaning
/// was linked and whose v3.1 meaning is not (or is linked elsewhere), and must land by its v3.1 meaning.
#[test]
fn the_caiq_v3_1_answer_key() {
    let bytes = fixtures::caiq_v3_1(&[
        ("AIS-01.5", "yes", ""),
        ("BCR-11.3", "yes", "Nightly snapshots."),
        ("BCR-11.4", "yes", ""),
        ("BCR-11.5", "no", ""),
        ("BCR-11.7", "yes", "Restore tested in March."),
        ("EKM-03.1", "yes", "AES-256 at rest."),
        ("GRM-05.1", "yes", ""),
        ("HRS-01.1", "yes", ""),
        ("HRS-09.5", "yes", ""),
        ("IAM-12.1", "yes", ""),
        ("IVS-08.3", "no", ""),
        ("SEF-02.1", "yes", ""),
        ("SEF-03.1", "yes", ""),
        ("STA-05.6", "na", ""),
        ("STA-05.10", "no", ""),
        ("STA-09.1", "no", ""),
    ]);
    let got = read(&bytes, &CAIQ).unwrap();
    assert_eq!(got.version, "caiq-v3.1");
    let through = through("caiq-v3.1");

    let city = map_to_template(&shipped("city-baseline"), &got.answers, through);
    assert_eq!(
        filled(&city),
        [
            ("BCK-04", "yes".into()),
            ("DEV-02", "yes".into()),
            ("DEV-05", "no".into()),
            ("ENC-02", "yes".into()),
            ("IAM-01", "yes".into()),
            ("INC-01", "yes".into()),
        ]
    );
    // The restore test is BCR-11.7 in v3.1; BCR-11.5 (v3.0.1's restore test) now asks about VM rollback.
    assert_eq!(city.filled["BCK-04"].sources, ["caiq-v3.1:BCR-11.7"]);
    assert_eq!(
        city.filled["BCK-04"].comment.as_deref(),
        Some("Restore tested in March.")
    );
    assert_eq!(
        hints(&city),
        [
            ("SUB-05", "caiq-v3.1:STA-09.1", "no"),
            ("BCK-01", "caiq-v3.1:BCR-11.3", "yes"),
        ]
    );
    // SEF-03.1 (v3.0.1's SIEM) is now the staff's duty to report events: no hint for around-the-clock alerting.
    assert_eq!(
        city.unmapped,
        [
            "BCR-11.4",
            "BCR-11.5",
            "GRM-05.1",
            "HRS-01.1",
            "HRS-09.5",
            "SEF-03.1",
            "STA-05.6",
            "STA-05.10"
        ]
    );

    let ma = map_to_template(&shipped("ma-201-cmr-17"), &got.answers, through);
    // Yearly training is HRS-09.5 in v3.1 (v3.0.1's HRS-03.5).
    assert_eq!(filled(&ma), [("WISP-06", "yes".into())]);
    // Breach notice: STA-05.10, not HRS-01.1 (now the return of assets); providers: STA-09.1, not GRM-05.1
    // (now management's commitment).
    assert_eq!(
        hints(&ma),
        [
            ("PROV-02", "caiq-v3.1:STA-09.1", "no"),
            ("MON-04", "caiq-v3.1:SEF-02.1", "yes"),
            ("CON-01", "caiq-v3.1:STA-05.10", "no"),
        ]
    );

    let cjis = map_to_template(&shipped("cjis-addendum"), &got.answers, through);
    assert!(cjis.filled.is_empty());
    assert_eq!(hints(&cjis), [("CJIS-12", "caiq-v3.1:STA-05.10", "no")]);

    let surveillance = map_to_template(&shipped("surveillance"), &got.answers, through);
    assert!(surveillance.filled.is_empty() && surveillance.hints.is_empty());
}

#[test]
fn the_hecvat_4_answer_key() {
    let bytes = fixtures::hecvat_v4(&[
        ("AAAI-01", "Yes", "SAML and OIDC."),
        ("AAAI-09", "No", ""),
        ("APPL-06", "Yes", ""),
        ("APPL-07", "No", ""),
        ("DATA-02", "Yes", "TLS 1.2+."),
        ("DATA-03", "No", ""),
        ("DCTR-14", "Yes", ""),
        ("DOCU-02", "Yes", ""),
        ("HFIH-01", "Yes", ""),
        ("VULN-04", "No", ""),
        ("COMP-01", "Yes", ""),
    ]);
    let got = read(&bytes, &HECVAT).unwrap();
    let result = map_to_template(&shipped("city-baseline"), &got.answers, through("hecvat-4"));
    // The issue's example: an encryption-in-transit Yes must never land on encryption at rest.
    assert_eq!(
        filled(&result),
        [
            ("BCK-06", "yes".into()),
            ("DEV-02", "yes".into()),
            ("ENC-02", "no".into()),
            ("IAM-01", "yes".into()),
            ("IAM-04", "yes".into()),
            ("INC-01", "yes".into()),
            ("LOG-01", "no".into()),
            ("VUL-04", "no".into()),
        ]
    );
    assert_eq!(
        hints(&result),
        [
            ("ENC-01", "hecvat-4:DATA-02", "yes"),
            ("DEV-02", "hecvat-4:APPL-07", "no"),
        ]
    );
    assert_eq!(result.unmapped, ["COMP-01"]);
}

/// HECVAT Lite 3 reuses HECVAT 4's prefixes with other numbers: each trap below is an ID that asks one thing in
/// Lite 3 and another in HECVAT 4, and must land (or not) by its Lite 3 meaning.
#[test]
fn the_hecvat_3_lite_answer_key() {
    let bytes = fixtures::hecvat_lite_3(
        "HECVAT - Lite | Version 3.06",
        &[
            ("COMP-03", "No", ""),
            ("COMP-04", "Yes", ""),
            ("COMP-06", "Yes", "Card payments through our processor."),
            ("DOCU-01", "Yes", ""),
            ("DOCU-02", "Yes", "CAIQ v4 attached."),
            ("DOCU-10", "No", ""),
            ("HLAA-01", "Yes", "SAML 2.0."),
            ("HLAA-07", "Yes", ""),
            ("HLAP-01", "Yes", ""),
            ("HLDA-02", "Yes", "TLS is required."),
            ("HLDA-03", "No", ""),
            ("HLIH-01", "Yes", ""),
            ("HLNT-02", "Yes", ""),
            ("HLSY-04", "No", ""),
            ("HLTP-01", "Yes", ""),
            ("HLTP-02", "No", ""),
            ("ITAC-08", "Yes", ""),
        ],
    );
    let got = read(&bytes, &HECVAT).unwrap();
    assert_eq!(got.version, "hecvat-3-lite");
    let through = through("hecvat-3-lite");

    let city = map_to_template(&shipped("city-baseline"), &got.answers, through);
    assert_eq!(
        filled(&city),
        [
            ("ENC-02", "no".into()),
            ("IAM-01", "yes".into()),
            ("IAM-06", "yes".into()),
            ("INC-01", "yes".into()),
            ("LOG-01", "yes".into()),
            ("SUB-01", "yes".into()),
            ("SUB-05", "no".into()),
            ("VUL-04", "no".into()),
        ]
    );
    // The issue's trap: "Yes, TLS is required" in transit is a hint for in transit, never our at-rest answer.
    assert_eq!(city.filled["ENC-02"].sources, ["hecvat-3-lite:HLDA-03"]);
    assert_eq!(
        hints(&city),
        [
            ("ENC-01", "hecvat-3-lite:HLDA-02", "yes"),
            ("BCK-06", "hecvat-3-lite:DOCU-10", "no"),
            ("ASR-01", "hecvat-3-lite:DOCU-01", "yes"),
        ]
    );
    // DOCU-02 is HECVAT 4's disaster recovery plan but Lite 3's completed CAIQ: no link, so BCK-06 takes only the
    // hint above; COMP-04 (HECVAT 4's security office) is Lite 3's development team.
    assert!(!city.filled.contains_key("BCK-06"));
    assert_eq!(
        city.unmapped,
        [
            "COMP-03", "COMP-04", "COMP-06", "DOCU-02", "HLNT-02", "ITAC-08"
        ]
    );

    let ma = map_to_template(&shipped("ma-201-cmr-17"), &got.answers, through);
    assert_eq!(
        filled(&ma),
        [
            ("ENC-01", "yes".into()),
            ("PROV-01", "yes".into()),
            ("PROV-02", "no".into()),
            ("SYS-02", "yes".into()),
        ]
    );
    assert_eq!(
        hints(&ma),
        [
            ("WISP-03", "hecvat-3-lite:COMP-03", "no"),
            ("PROV-06", "hecvat-3-lite:DOCU-01", "yes"),
        ]
    );

    // COMP-06 asks whether card data is held at all (HECVAT 4's PCID-01, the attestation, is no Lite 3 question):
    // a hint for PAN storage, never a PCI attestation.
    let pci = map_to_template(&shipped("pci-addendum"), &got.answers, through);
    assert!(pci.filled.is_empty());
    assert_eq!(hints(&pci), [("PCI-09", "hecvat-3-lite:COMP-06", "yes")]);
}

#[test]
fn disagreeing_sources_leave_the_question_unfilled_and_agreeing_ones_fill_it_together() {
    let template = shipped("ma-201-cmr-17");
    // WISP-11 is linked to two CAIQ v3.0.1 questions of strength same.
    let through = through("caiq-v3.0.1");
    let disagree = [answer("HRS-04.2", Yes), answer("IAM-11.1", No)];
    let result = map_to_template(&template, &disagree, through);
    assert!(!result.filled.contains_key("WISP-11"));
    assert_eq!(
        result.conflicts[0].sources_and_answers,
        [
            SourcedAnswer {
                source: "caiq-v3.0.1:HRS-04.2".into(),
                answer: Yes
            },
            SourcedAnswer {
                source: "caiq-v3.0.1:IAM-11.1".into(),
                answer: No
            },
        ]
    );

    let mut agree = [answer("HRS-04.2", Yes), answer("IAM-11.1", Yes)];
    agree[0].comment = Some("one".into());
    agree[1].comment = Some("two".into());
    let result = map_to_template(&template, &agree, through);
    let derived = &result.filled["WISP-11"];
    assert_eq!(
        derived.sources,
        ["caiq-v3.0.1:HRS-04.2", "caiq-v3.0.1:IAM-11.1"]
    );
    assert_eq!(
        derived.comment.as_deref(),
        Some("caiq-v3.0.1:HRS-04.2: one\ncaiq-v3.0.1:IAM-11.1: two")
    );
}

#[test]
fn na_is_carried_over_only_where_the_question_allows_it() {
    let template = shipped("ma-201-cmr-17");
    assert!(template.question("ENC-03").unwrap().na_allowed);
    let result = map_to_template(&template, &[answer("UEM-08.1", Na)], through("caiq-v4"));
    assert_eq!(result.filled["ENC-03"].answer, Answer::YesNo(YesNo::Na));
}

#[test]
fn a_mapped_source_matches_our_own_ids_only() {
    let template = shipped("city-baseline");
    let answers = [
        answer("IAM-05", Yes),
        answer("IAM-14.1", No),
        answer("DCTR-14", Yes),
        answer("LOG-02", Yes),
    ];
    let result = map_to_template(&template, &answers, Through::OwnIds);
    let filled: Vec<&str> = result.filled.keys().map(String::as_str).collect();
    assert_eq!(filled, ["IAM-05"]);
    assert_eq!(result.filled["IAM-05"].sources, ["mapped:IAM-05"]);
    // Other formats' IDs are not guessed at, and LOG-02 is a number question: a Yes cannot answer it.
    assert_eq!(result.unmapped, ["IAM-14.1", "DCTR-14", "LOG-02"]);
}

#[test]
fn ids_are_recognised_in_both_formats() {
    for id in ["A&A-02.1", "IAM-14.1", "BCR-08.12"] {
        assert!(is_caiq_id(id), "{id}");
    }
    for id in ["End of Standard", "IAM14.1", "IAM-1.1", "iam-14.1", "©"] {
        assert!(!is_caiq_id(id), "{id}");
    }
    for id in ["HLDA-07", "APPL-12a"] {
        assert!(is_hecvat_id(id), "{id}");
    }
    for id in ["HLD-07", "HLDA-7", "HLDA-07ab", "GNRL"] {
        assert!(!is_hecvat_id(id), "{id}");
    }
    assert_eq!(column_index("A"), Some(0));
    assert_eq!(column_index("ab"), Some(27));
    assert_eq!(column_index("1B"), None);
    assert_eq!(
        hecvat_version_text("HECVAT Version 4.1.4 (2025)", &['4']).as_deref(),
        Some("4.1.4")
    );
    assert_eq!(
        hecvat_version_text("HECVAT - Lite | Version 3.06 GNRL-05 WCAG 2.1", &['2', '3'])
            .as_deref(),
        Some("3.06")
    );
    assert_eq!(
        hecvat_version_text(
            "HECVAT - Lite GNRL-05 Link to the VPAT meeting WCAG 2.1 AA",
            &['2', '3']
        ),
        None,
        "a number far from the name is no version"
    );
}

// The synthetic workbooks themselves (tests/support/sheet_fixtures.rs) carry the traps of the real layouts.

/// One part of an xlsx, as text.
fn fixture_part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
    text
}

#[test]
fn the_caiq_fixture_has_the_traps_of_the_real_layout() {
    let bytes = fixtures::caiq_v4(&[("BCR-08.1", "Yes", ""), ("BCR-08.2", "No", "")]);
    let sheet = fixture_part(&bytes, "xl/worksheets/sheet2.xml");
    assert!(sheet.contains(r#"<mergeCell ref="G3:G4"/>"#), "{sheet}");
    let strings = fixture_part(&bytes, "xl/sharedStrings.xml");
    assert!(strings.contains("CSP CAIQ  Answer"), "doubled space");
    assert!(strings.contains("SSRM Control\nOwnership"), "line break");
    assert!(strings.contains("End of Standard"));
    assert!(strings.contains("Copyright"));
}

#[test]
fn the_hecvat_4_fixture_has_formulas_a_hidden_tab_and_hidden_rows() {
    let bytes = fixtures::hecvat_v4(&[("DOCU-01", "Yes", ""), ("DOCU-02", "No", "")]);
    let workbook = fixture_part(&bytes, "xl/workbook.xml");
    assert!(
        workbook.contains(r#"name="Infrastructure" sheetId="5" state="hidden""#),
        "{workbook}"
    );
    let organization = fixture_part(&bytes, "xl/worksheets/sheet3.xml");
    assert!(organization.contains("<f>"), "formula question cells");
    assert!(organization.contains(r#"hidden="1""#), "hidden row");
    let strings = fixture_part(&bytes, "xl/sharedStrings.xml");
    assert!(
        strings.contains(r#"<t xml:space="preserve"> Section DOCU</t>"#),
        "block title with a leading space: {strings}"
    );
    assert!(
        fixture_part(&bytes, "xl/worksheets/sheet5.xml")
            .contains(r#"<f>"Made-up question DOCU-01"#),
        "the first question is repeated on the hidden tab"
    );
}
