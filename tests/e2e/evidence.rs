//! Evidence end to end: the board's view of every demo bestuur over HTTP, and
//! `koers import-csv` with a good file and one with a bad row.

use crate::helpers::{App, example, run};

#[tokio::test]
async fn every_demo_bestuur_sees_all_its_kindcentra_in_its_voortgang() {
    let app = App::spawn_demo();
    let body = app.graphql("{ besturen { id name kindcentra { name } } }").await;
    let besturen = body["data"]["besturen"].as_array().expect("besturen").clone();
    assert!(besturen.iter().any(|b| b["name"] == "Stichting Spelen = Leren"), "De Klinkert is in the demo");
    for bestuur in &besturen {
        let query = r#"query($id: ID!) { bestuur(id: $id) { voortgang(peildatum: "2023-07-31") {
            kindcentra { kindcentrum { name } koersplannen { progress signal ambities { signal } } overdueCycles { id } }
        } } }"#;
        let answer = app.graphql_with(query, serde_json::json!({ "id": bestuur["id"] })).await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let seen: Vec<&serde_json::Value> = answer["data"]["bestuur"]["voortgang"]["kindcentra"]
            .as_array()
            .expect("kindcentra")
            .iter()
            .map(|kc| &kc["kindcentrum"]["name"])
            .collect();
        let expected: Vec<&serde_json::Value> =
            bestuur["kindcentra"].as_array().expect("kindcentra").iter().map(|kc| &kc["name"]).collect();
        assert_eq!(seen, expected, "{}", bestuur["name"]);
        if bestuur["name"] == "Stichting Lucas Onderwijs" {
            let plan = &answer["data"]["bestuur"]["voortgang"]["kindcentra"][0]["koersplannen"][0];
            assert_eq!(plan["ambities"].as_array().map(Vec::len), Some(5), "the five ambities of KC Balans");
            assert!(plan["signal"].is_string(), "{plan}");
        }
    }
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn import_csv_takes_a_good_file_and_names_the_bad_row_of_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_engine::testing::database_url_blocking(dir.path(), "k.db");
    let klinkert = example("de-klinkert.toml");
    let output = run(&["import", "--database-url", &url, klinkert.to_str().expect("path")]);
    assert!(output.status.success(), "{}", stderr(&output));

    let good = example("measurements.csv");
    let output = run(&["import-csv", "--database-url", &url, "measurements", good.to_str().expect("path")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("created=3"), "{}", stderr(&output));

    let bad = dir.path().join("ouders.csv");
    std::fs::write(
        &bad,
        "indicator;date;value;source\nklinkert-ouders-ouderhulp;1-10-2026;45;Telling\nklinkert-ouders-themabrief;31-10-2026;tachtig;Digiduif\n",
    )
    .expect("write");
    let output = run(&["import-csv", "--database-url", &url, "measurements", bad.to_str().expect("path")]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("1 bad row(s), nothing imported"), "{message}");
    assert!(message.contains("line 3, column `value`: `tachtig` is not a number"), "{message}");
    assert!(!message.contains("panicked"), "{message}");

    let output = run(&["import-csv", "--database-url", &url, "uren", bad.to_str().expect("path")]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("measurements, scans or coaching"), "{}", stderr(&output));
}
