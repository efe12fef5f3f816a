//! Match-log exports for analysts (issue 6): the joined rows of `match_logs`,
//! `match_log_results` and `match_outcomes` written as Parquet (through Arrow) or CSV.
