//! Writes a synthetic NPPES `npidata_pfile` CSV for the import benchmark: the real 330-column
//! header, every field quoted as CMS writes it, and rows whose mix resembles the registry.
//!
//! ```sh
//! cargo run --release -p carematch-ingest --example nppes_gen -- 1000000 /tmp/npidata_1m.csv
//! cargo run --release -p carematch-ingest --example nppes_gen -- 1000000 out.csv --mapped-percent 15
//! ```
//!
//! The mix (per row, from a hash of the row number, so the file is the same on every run):
//! `--mapped-percent` (default 15) of the rows carry a taxonomy code of carematch's table
//! (about the registry's share of physical and massage therapists, counsellors, social
//! workers, psychologists, OB/GYNs, midwives and nurse practitioners), 5 % are deactivated
//! rows (only the NPI and the date, as in the real file), and the rest carry common unmapped
//! codes (family medicine, internal medicine, dentists, pharmacists, ...). One row in five is an
//! organisation; half the postal codes are ZIP+4; a mapped row has a second, unmapped taxonomy
//! one time in four. Postal codes come from the embedded centroid table.

use std::io::{BufWriter, Write};

use carematch_ingest::taxonomy::TAXONOMY_CARE_TYPES;
use carematch_postal::PostalCodes;

const UNMAPPED_CODES: &[&str] = &[
    "207Q00000X",
    "207R00000X",
    "208D00000X",
    "363L00000X",
    "183500000X",
    "122300000X",
    "390200000X",
    "261QM1300X",
    "207P00000X",
    "2085R0202X",
];
const FIRST_NAMES: &[&str] = &[
    "JANE", "MARIA", "ANNA", "LISA", "KATE", "ROSA", "EMMA", "HANNAH", "OLIVIA", "SARAH", "GRACE",
    "CLAIRE", "NORA", "ZOE", "IVY", "RUTH",
];
const LAST_NAMES: &[&str] = &[
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "GARCIA",
    "MILLER",
    "DAVIS",
    "RODRIGUEZ",
    "MARTINEZ",
    "NGUYEN",
    "PATEL",
    "O'BRIEN",
    "LEE",
    "KIM",
    "TAYLOR",
];
const CREDENTIALS: &[&str] = &[
    "PT, DPT", "LMT", "IBCLC", "LCSW", "MD", "CNM", "PHD", "LPC", "",
];

fn main() -> std::io::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: nppes_gen ROWS OUT.csv [--mapped-percent N]";
    let rows: u64 = arguments
        .first()
        .and_then(|text| text.replace('_', "").parse().ok())
        .ok_or_else(|| std::io::Error::other(usage))?;
    let path = arguments
        .get(1)
        .ok_or_else(|| std::io::Error::other(usage))?;
    let mapped_percent: u64 = match arguments.iter().position(|arg| arg == "--mapped-percent") {
        Some(index) => arguments
            .get(index + 1)
            .and_then(|text| text.parse().ok())
            .filter(|percent| *percent <= 95)
            .ok_or_else(|| std::io::Error::other("--mapped-percent takes 0 to 95"))?,
        None => 15,
    };

    let header = header();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| column == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let npi_column = column("NPI");
    let entity_column = column("Entity Type Code");
    let organization_column = column("Provider Organization Name (Legal Business Name)");
    let last_column = column("Provider Last Name (Legal Name)");
    let first_column = column("Provider First Name");
    let credential_column = column("Provider Credential Text");
    let address_column = column("Provider First Line Business Practice Location Address");
    let city_column = column("Provider Business Practice Location Address City Name");
    let state_column = column("Provider Business Practice Location Address State Name");
    let postal_column = column("Provider Business Practice Location Address Postal Code");
    let country_column =
        column("Provider Business Practice Location Address Country Code (If outside U.S.)");
    let phone_column = column("Provider Business Practice Location Address Telephone Number");
    let enumeration_column = column("Provider Enumeration Date");
    let deactivation_column = column("NPI Deactivation Date");
    let taxonomy_columns = [
        column("Healthcare Provider Taxonomy Code_1"),
        column("Healthcare Provider Taxonomy Code_2"),
    ];
    let license_state_columns = [
        column("Provider License Number State Code_1"),
        column("Provider License Number State Code_2"),
    ];
    let primary_columns = [
        column("Healthcare Provider Primary Taxonomy Switch_1"),
        column("Healthcare Provider Primary Taxonomy Switch_2"),
    ];

    let postal_codes = PostalCodes::embedded().entries();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    write_row(&mut out, &header)?;
    let mut fields: Vec<String> = vec![String::new(); header.len()];
    let (mut mapped, mut deactivated) = (0_u64, 0_u64);
    for row in 0..rows {
        fields.iter_mut().for_each(String::clear);
        let hash = splitmix(row);
        let roll = hash % 100;
        fields[npi_column] = npi(100_000_000 + row);
        if roll < 5 {
            fields[deactivation_column] = "05/01/2020".to_owned();
            deactivated += 1;
            write_row(&mut out, &fields)?;
            continue;
        }
        let is_mapped = roll < 5 + mapped_percent;
        let entry = &postal_codes[(hash >> 8) as usize % postal_codes.len()];
        let organization = (hash >> 20).is_multiple_of(5);
        if organization {
            fields[entity_column] = "2".to_owned();
            fields[organization_column] = format!(
                "{} {} CARE LLC",
                LAST_NAMES[(hash >> 24) as usize % LAST_NAMES.len()],
                FIRST_NAMES[(hash >> 28) as usize % FIRST_NAMES.len()]
            );
        } else {
            fields[entity_column] = "1".to_owned();
            fields[first_column] =
                FIRST_NAMES[(hash >> 24) as usize % FIRST_NAMES.len()].to_owned();
            fields[last_column] = LAST_NAMES[(hash >> 28) as usize % LAST_NAMES.len()].to_owned();
            fields[credential_column] =
                CREDENTIALS[(hash >> 32) as usize % CREDENTIALS.len()].to_owned();
        }
        fields[address_column] = format!("{} MAIN ST", (hash >> 36) % 9_000 + 1);
        fields[city_column] = "SPRINGFIELD".to_owned();
        fields[state_column] = entry.state().to_owned();
        fields[postal_column] = if (hash >> 40).is_multiple_of(2) {
            format!("{}{:04}", entry.code(), (hash >> 44) % 10_000)
        } else {
            entry.code().to_owned()
        };
        fields[country_column] = "US".to_owned();
        fields[phone_column] = format!("503555{:04}", (hash >> 48) % 10_000);
        fields[enumeration_column] = "05/23/2005".to_owned();
        let first_code = if is_mapped {
            mapped += 1;
            TAXONOMY_CARE_TYPES[(hash >> 52) as usize % TAXONOMY_CARE_TYPES.len()].0
        } else {
            UNMAPPED_CODES[(hash >> 52) as usize % UNMAPPED_CODES.len()]
        };
        fields[taxonomy_columns[0]] = first_code.to_owned();
        fields[license_state_columns[0]] = entry.state().to_owned();
        fields[primary_columns[0]] = "Y".to_owned();
        if (hash >> 58).is_multiple_of(4) {
            fields[taxonomy_columns[1]] =
                UNMAPPED_CODES[(hash >> 60) as usize % UNMAPPED_CODES.len()].to_owned();
            fields[primary_columns[1]] = "N".to_owned();
        }
        write_row(&mut out, &fields)?;
    }
    out.flush()?;
    eprintln!(
        "wrote {rows} rows to {path}: {mapped} with a mapped taxonomy, {deactivated} deactivated"
    );
    Ok(())
}

fn write_row(out: &mut impl Write, fields: &[String]) -> std::io::Result<()> {
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\"")?;
        out.write_all(field.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")?;
    }
    out.write_all(b"\n")
}

/// A well-mixed 64-bit hash of the row number (SplitMix64's finaliser).
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The nine digits followed by their NPI check digit (Luhn over `80840` and the digits).
fn npi(nine_digits: u64) -> String {
    let base = format!("{nine_digits:09}");
    let digits: Vec<u32> = format!("80840{base}")
        .bytes()
        .map(|byte| u32::from(byte - b'0'))
        .collect();
    // The check digit takes the rightmost place, so the payload's last digit is doubled.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            if position % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                *digit
            }
        })
        .sum();
    format!("{base}{}", (10 - sum % 10) % 10)
}

/// The real `npidata_pfile` header: 330 columns, in CMS's order.
fn header() -> Vec<String> {
    let mut header: Vec<String> = [
        "NPI",
        "Entity Type Code",
        "Replacement NPI",
        "Employer Identification Number (EIN)",
        "Provider Organization Name (Legal Business Name)",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Middle Name",
        "Provider Name Prefix Text",
        "Provider Name Suffix Text",
        "Provider Credential Text",
        "Provider Other Organization Name",
        "Provider Other Organization Name Type Code",
        "Provider Other Last Name",
        "Provider Other First Name",
        "Provider Other Middle Name",
        "Provider Other Name Prefix Text",
        "Provider Other Name Suffix Text",
        "Provider Other Credential Text",
        "Provider Other Last Name Type Code",
        "Provider First Line Business Mailing Address",
        "Provider Second Line Business Mailing Address",
        "Provider Business Mailing Address City Name",
        "Provider Business Mailing Address State Name",
        "Provider Business Mailing Address Postal Code",
        "Provider Business Mailing Address Country Code (If outside U.S.)",
        "Provider Business Mailing Address Telephone Number",
        "Provider Business Mailing Address Fax Number",
        "Provider First Line Business Practice Location Address",
        "Provider Second Line Business Practice Location Address",
        "Provider Business Practice Location Address City Name",
        "Provider Business Practice Location Address State Name",
        "Provider Business Practice Location Address Postal Code",
        "Provider Business Practice Location Address Country Code (If outside U.S.)",
        "Provider Business Practice Location Address Telephone Number",
        "Provider Business Practice Location Address Fax Number",
        "Provider Enumeration Date",
        "Last Update Date",
        "NPI Deactivation Reason Code",
        "NPI Deactivation Date",
        "NPI Reactivation Date",
        "Provider Gender Code",
        "Authorized Official Last Name",
        "Authorized Official First Name",
        "Authorized Official Middle Name",
        "Authorized Official Title or Position",
        "Authorized Official Telephone Number",
    ]
    .map(str::to_owned)
    .to_vec();
    for slot in 1..=15 {
        header.push(format!("Healthcare Provider Taxonomy Code_{slot}"));
        header.push(format!("Provider License Number_{slot}"));
        header.push(format!("Provider License Number State Code_{slot}"));
        header.push(format!(
            "Healthcare Provider Primary Taxonomy Switch_{slot}"
        ));
    }
    for slot in 1..=50 {
        header.push(format!("Other Provider Identifier_{slot}"));
        header.push(format!("Other Provider Identifier Type Code_{slot}"));
        header.push(format!("Other Provider Identifier State_{slot}"));
        header.push(format!("Other Provider Identifier Issuer_{slot}"));
    }
    for name in [
        "Is Sole Proprietor",
        "Is Organization Subpart",
        "Parent Organization LBN",
        "Parent Organization TIN",
        "Authorized Official Name Prefix Text",
        "Authorized Official Name Suffix Text",
        "Authorized Official Credential Text",
    ] {
        header.push(name.to_owned());
    }
    for slot in 1..=15 {
        header.push(format!("Healthcare Provider Taxonomy Group_{slot}"));
    }
    header.push("Certification Date".to_owned());
    assert_eq!(header.len(), 330);
    header
}
