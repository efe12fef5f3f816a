//! `schema.graphql` at the repository root is generated from the code. Locally a stale file is
//! rewritten (and the test fails once, so the change is seen); under `CI=true` it only fails.

use std::path::PathBuf;

#[test]
fn the_committed_schema_graphql_is_what_the_server_generates() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let generated = carematch_api::sdl();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == generated {
        return;
    }
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!(
            "schema.graphql is stale: run `cargo run -p carematch-cli -- schema > schema.graphql`"
        );
    }
    std::fs::write(&path, &generated).expect("rewrite schema.graphql");
    panic!("schema.graphql was stale and has been rewritten: review and commit it");
}
