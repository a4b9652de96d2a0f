//! Placements: where in a record a value is put, for every object kind it fits.

use serde_json::{Value as Json, json};

use super::forms::{Form, Written};

/// Where a value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// In the text of `notes` (declared `business` for every kind), with words around it.
    Notes(Lang),
    /// As the whole value of an unclassified field (`custom_1`).
    Unclassified,
    /// Deep in an unclassified object (`custom_obj.details.remark`).
    Nested,
    /// In an array of objects (`lines[*].remark`).
    ArrayOfObjects,
    /// As a JSON number (`"custom_1": 8613812345678`): digit-only values only.
    Number,
    /// As an object key (`{"custom_map": {"<value>": "primary"}}`).
    Key,
    /// Glued into the record id (`lead_<value>`).
    Id(char),
    /// In the city of an address the policy generalizes (`"city": "Berlin, Tel <value>"`).
    Address,
}

/// The language of the words around a value in free text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    Zh,
    En,
    De,
}

const NOTES_ZH: &[&str] = &[
    "客户要求通过{}联系，周五前回复。",
    "{}（客户本人提供）",
    "展会上认识，资料：{}，请跟进报价",
];
const NOTES_EN: &[&str] = &[
    "Customer asked to be reached at {} before Friday.",
    "{} - given at the trade fair",
    "Details for the tender: {}; follow up next week",
];
const NOTES_DE: &[&str] = &[
    "Kunde bittet um Rückruf unter {} bis Freitag.",
    "{} (vom Kunden selbst angegeben)",
    "Angaben zur Ausschreibung: {}, nächste Woche nachfassen",
];

impl Placement {
    pub(crate) const ALL: &'static [Placement] = &[
        Placement::Notes(Lang::Zh),
        Placement::Notes(Lang::En),
        Placement::Notes(Lang::De),
        Placement::Unclassified,
        Placement::Nested,
        Placement::ArrayOfObjects,
        Placement::Number,
        Placement::Key,
        Placement::Id('_'),
        Placement::Id('-'),
        Placement::Id('.'),
        Placement::Address,
    ];

    /// The object kinds this placement is tried in.
    pub(crate) fn object_kinds(self) -> &'static [&'static str] {
        match self {
            // A contact's `addresses[*]`, an order's `ship_to_address`, a work order's
            // `site_address`: the shipped set classifies all three as personal.address.
            Placement::Address => &["contact", "order", "work_order"],
            Placement::ArrayOfObjects => &["order", "contact", "service_ticket"],
            _ => &[
                "contact",
                "lead",
                "account",
                "opportunity",
                "order",
                "invoice",
                "product",
                "service_ticket",
            ],
        }
    }

    /// Whether `written` (in `form`) can go here: a JSON number needs a literal of digits
    /// without a leading zero.
    pub(crate) fn fits(self, form: Form, written: &Written) -> bool {
        match self {
            Placement::Number => {
                form == Form::Literal
                    && !written.text.starts_with('0')
                    && !written.text.is_empty()
                    && written.text.bytes().all(|b| b.is_ascii_digit())
            }
            _ => true,
        }
    }

    /// The JSON text of a record of `object` in `region` holding `text` here; `variant` picks
    /// the words around it in notes.
    pub(crate) fn record(self, object: &str, region: &str, text: &str, variant: usize) -> String {
        let mut fields = serde_json::Map::new();
        let mut id = format!("{}-000417", id_prefix(object));
        fields.insert("status".into(), json!("active"));
        match self {
            Placement::Notes(lang) => {
                let templates = match lang {
                    Lang::Zh => NOTES_ZH,
                    Lang::En => NOTES_EN,
                    Lang::De => NOTES_DE,
                };
                let note = templates[variant % templates.len()].replace("{}", text);
                fields.insert("notes".into(), json!(note));
            }
            Placement::Unclassified => {
                fields.insert("custom_1".into(), json!(text));
            }
            Placement::Nested => {
                fields.insert(
                    "custom_obj".into(),
                    json!({ "details": { "remark": text, "kind": "x" } }),
                );
            }
            Placement::ArrayOfObjects => {
                fields.insert(
                    "lines".into(),
                    json!([
                        { "sku": "LED-PAR-64", "quantity": 2, "remark": "ok" },
                        { "sku": "LED-BAR-12", "quantity": 1, "remark": text },
                    ]),
                );
            }
            Placement::Number => {
                fields.insert("custom_1".into(), json!("__NUMBER__"));
            }
            Placement::Key => {
                let mut map = serde_json::Map::new();
                map.insert(text.to_owned(), json!("primary"));
                map.insert("fallback".into(), json!("none"));
                fields.insert("custom_map".into(), Json::Object(map));
            }
            Placement::Id(glue) => {
                id = format!("{}{glue}{text}", id_prefix(object));
            }
            Placement::Address => {
                let address = json!({
                    "street": "Musterstraße 1",
                    "postal_code": "10115",
                    "city": format!("Berlin, Tel {text}"),
                    "country": "DE",
                });
                match object {
                    "contact" => fields.insert("addresses".into(), json!([address])),
                    "order" => fields.insert("ship_to_address".into(), address),
                    _ => fields.insert("site_address".into(), address),
                };
            }
        }
        let record = json!({
            "id": id,
            "object": object,
            "tenant": "t",
            "region": region,
            "subject": { "id": "subj-000417", "consent": "granted", "legal_basis": "contract" },
            "fields": fields,
        });
        let json = record.to_string();
        if self == Placement::Number {
            json.replace("\"__NUMBER__\"", text)
        } else {
            json
        }
    }
}

fn id_prefix(object: &str) -> &'static str {
    match object {
        "contact" => "con",
        "lead" => "lead",
        "account" => "acct",
        "order" => "ord",
        "invoice" => "inv",
        _ => "rec",
    }
}
