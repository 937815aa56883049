//! Duplicate check against 10,000 catalogue services and 50,000 past purchases, and the index build.
//!
//! The data is synthetic and deterministic (a tiny inline PRNG): documents are built from the concept
//! table's phrases and filler words, so that postings have realistic shapes (a few thousand documents per
//! concept, long tails of product and vendor names).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use procurement_review::domain::duplicates::*;

const SERVICES: usize = 10_000;
const PURCHASES: usize = 50_000;
const QUERIES: usize = 64;

/// SplitMix64: enough randomness for test data, and the same data on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const FILLER: &str = "annual residents staff program reporting field public requests training records review \
    schedule notices portal workflow contract neighborhood district youth seniors housing \
    energy water street parking library schools health safety emergency budget outreach \
    community language multilingual accessible compliance audit inspectors crews counter \
    hotline volunteers events parks trees permits vehicles buildings facilities equipment \
    laptops tablets phones cameras sensors maps forms documents files cases tickets payments \
    invoices grants surveys dashboards metrics alerts texts emails calls meetings hearings \
    agendas minutes elections ballots voters taxes assessments abatements licenses renewals \
    seasonal weekly monthly quarterly pilot expansion replacement upgrade migration support \
    hosting storage backup security privacy retention archive";

const DEPARTMENTS: &str = "Assessing|Treasury|Auditing|Budget Office|Human Resources|Law Department|City Clerk|\
    Elections Department|Inspectional Services|Public Works Department|\
    Boston Transportation Department|Parks and Recreation|Boston Public Library|\
    Boston Police Department|Boston Fire Department|Emergency Medical Services|\
    Office of Emergency Management|Age Strong Commission|Office of Housing|\
    Environment Department|Office of Arts & Culture|Office of Tourism|Veterans' Services|\
    Boston Centers for Youth & Families|Office of Neighborhood Services|Property Management|\
    Public Facilities Department|Registry Division|Animal Care and Control|Retirement Board";

const CATEGORIES: &str = "Collaboration|Identity and security|Geospatial|Constituent services|Documents and records|\
    Finance|Human resources|Analytics|Permitting and licensing|Public safety|IT operations|\
    Web and digital|Infrastructure|Fleet and facilities|Other";

const SYLLABLES: &str = "ar bel cor dex el fin gal hex ion jun kal lum mor nex or pol qua ral sol tor ul ver wex \
    xan yor zen";

struct Gen {
    rng: Rng,
    phrases: Vec<Vec<String>>,
    filler: Vec<&'static str>,
    departments: Vec<&'static str>,
    categories: Vec<&'static str>,
    syllables: Vec<&'static str>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let phrases = default_lexicon()
            .concepts()
            .iter()
            .map(|c| {
                c.phrases
                    .iter()
                    .map(|p| p.trim_start_matches('~').to_string())
                    .collect()
            })
            .collect();
        Gen {
            rng: Rng(seed),
            phrases,
            filler: FILLER.split_whitespace().collect(),
            departments: DEPARTMENTS.split('|').collect(),
            categories: CATEGORIES.split('|').collect(),
            syllables: SYLLABLES.split_whitespace().collect(),
        }
    }

    fn brand(&mut self) -> String {
        let n = 2 + self.rng.below(2);
        let mut name: String = (0..n).map(|_| *self.rng.pick(&self.syllables)).collect();
        name[..1].make_ascii_uppercase();
        name
    }

    fn phrase(&mut self, concept: usize) -> String {
        let rng = &mut self.rng;
        rng.pick(&self.phrases[concept]).clone()
    }

    /// Words from the given concepts mixed with filler.
    fn text(&mut self, concepts: &[usize], words: usize) -> String {
        let mut out = Vec::with_capacity(words);
        while out.len() < words {
            if self.rng.below(4) == 0 {
                let concept = *self.rng.pick(concepts);
                out.push(self.phrase(concept));
            } else {
                out.push(self.rng.pick(&self.filler).to_string());
            }
        }
        out.join(" ")
    }

    fn concepts(&mut self) -> Vec<usize> {
        let n = 1 + self.rng.below(2);
        (0..n).map(|_| self.rng.below(self.phrases.len())).collect()
    }

    fn service(&mut self, i: usize) -> CatalogEntry {
        let concepts = self.concepts();
        let label = default_lexicon().concepts()[concepts[0]].label.clone();
        let product = self.brand();
        let vendor = self.brand();
        let caps = 3 + self.rng.below(3);
        let words = 12 + self.rng.below(14);
        CatalogEntry {
            id: format!("svc-{i}"),
            name: format!("{label} ({product})"),
            category: self.rng.pick(&self.categories).to_string(),
            description: self.text(&concepts, words),
            capabilities: (0..caps).map(|_| self.text(&concepts, 2)).collect(),
            aliases: vec![product, format!("{vendor} Systems")],
            status: if i.is_multiple_of(10) {
                ServiceStatus::Retiring
            } else {
                ServiceStatus::Active
            },
        }
    }

    fn purchase(&mut self, i: usize) -> PastPurchase {
        let concepts = self.concepts();
        let vendor = self.rng.below(2_000);
        let caps = 2 + self.rng.below(3);
        let title_phrase = self.phrase(concepts[0]);
        let words = 15 + self.rng.below(16);
        PastPurchase {
            id: format!("po-{i}"),
            department: self.rng.pick(&self.departments).to_string(),
            vendor_id: format!("V{vendor}"),
            vendor_name: format!("Vendor {vendor} Inc."),
            product_name: format!(
                "{} {}",
                self.brand(),
                self.rng.pick(&["Cloud", "Pro", "Suite", "Online", ""])
            ),
            category: self.rng.pick(&self.categories).to_string(),
            capabilities: (0..caps).map(|_| self.text(&concepts, 2)).collect(),
            title: format!("{title_phrase} for {}", self.text(&concepts, 2)),
            description: self.text(&concepts, words),
        }
    }

    fn request(&mut self) -> RequestText {
        let concepts = self.concepts();
        let caps = self.rng.below(4);
        let title_phrase = self.phrase(concepts[0]);
        let words = 20 + self.rng.below(20);
        RequestText {
            title: format!("{title_phrase} for {}", self.text(&concepts, 3)),
            description: self.text(&concepts, words),
            product_name: self.brand(),
            vendor_id: format!("V{}", self.rng.below(2_000)),
            vendor_name: self.brand(),
            category: self.rng.pick(&self.categories).to_string(),
            capabilities: (0..caps).map(|_| self.text(&concepts, 2)).collect(),
            department: self.rng.pick(&self.departments).to_string(),
        }
    }
}

fn corpus() -> (Vec<CatalogEntry>, Vec<PastPurchase>) {
    let mut generator = Gen::new(0x5EED);
    let services = (0..SERVICES).map(|i| generator.service(i)).collect();
    let purchases = (0..PURCHASES).map(|i| generator.purchase(i)).collect();
    (services, purchases)
}

fn build(services: &[CatalogEntry], purchases: &[PastPurchase]) -> DuplicateIndex {
    build_with(default_lexicon(), services, purchases)
}

fn build_with(
    lexicon: std::sync::Arc<Lexicon>,
    services: &[CatalogEntry],
    purchases: &[PastPurchase],
) -> DuplicateIndex {
    let mut index = DuplicateIndex::with_lexicon(lexicon);
    for service in services {
        index.upsert_service(service.clone());
    }
    for purchase in purchases {
        index.upsert_purchase(purchase.clone());
    }
    index
}

fn queries() -> Vec<RequestText> {
    let mut generator = Gen::new(0xC0FFEE);
    let mut out: Vec<RequestText> = (0..QUERIES - 2).map(|_| generator.request()).collect();
    // Two requests as a buyer writes them, with a product name and with typos.
    out.push(RequestText {
        title: "DocuSign licences for the Assessing office".into(),
        description: "Renewal of five sender licences.".into(),
        product_name: "DocuSign eSignature".into(),
        vendor_name: "DocuSign".into(),
        department: "Assessing".into(),
        ..RequestText::default()
    });
    out.push(RequestText {
        title: "Electornic signiture software for permits staff".into(),
        description:
            "Event organizers sign park use agreements online instead of printing and scanning."
                .into(),
        capabilities: vec!["e-sign agreements".into()],
        department: "Parks and Recreation".into(),
        ..RequestText::default()
    });
    out
}

fn bench_check(c: &mut Criterion) {
    let (services, purchases) = corpus();
    let index = build(&services, &purchases);
    assert_eq!(index.service_count(), SERVICES);
    assert_eq!(index.purchase_count(), PURCHASES);
    let requests = queries();
    let mut next = 0;
    c.bench_function("check/10k_services_50k_purchases", |b| {
        b.iter(|| {
            let request = &requests[next % requests.len()];
            next += 1;
            black_box(index.check(black_box(request), 10))
        })
    });
    let docusign = &requests[QUERIES - 2];
    c.bench_function("check/product_name_request", |b| {
        b.iter(|| black_box(index.check(black_box(docusign), 10)))
    });
}

fn bench_build(c: &mut Criterion) {
    let (services, purchases) = corpus();
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("10k_services_50k_purchases", |b| {
        b.iter(|| black_box(build(&services, &purchases)))
    });
    // What an instance does when the CIO office changes the vocabulary: parse the lexicon with the entries
    // and read every document again.
    let entries = vec![VocabularyEntry {
        concept: "hydrant_flushing".into(),
        label: "hydrant flushing".into(),
        phrases: vec!["hydrant flushing".into(), "unidirectional flushing".into()],
        ..VocabularyEntry::default()
    }];
    group.bench_function("vocabulary_change_10k_services_50k_purchases", |b| {
        b.iter(|| {
            let lexicon = std::sync::Arc::new(
                Lexicon::build(DEFAULT_LEXICON, black_box(&entries)).expect("valid"),
            );
            black_box(build_with(lexicon, &services, &purchases))
        })
    });
    group.finish();

    let mut index = build(&services, &purchases);
    let mut generator = Gen::new(0xFEED);
    let mut i = 0;
    c.bench_function("upsert_purchase/into_60k_documents", |b| {
        b.iter(|| {
            // Replace one of a small rotating set, so the index size stays put while postings change.
            let mut purchase = generator.purchase(i);
            purchase.id = format!("po-bench-{}", i % 100);
            i += 1;
            index.upsert_purchase(black_box(purchase));
        })
    });
}

criterion_group!(benches, bench_check, bench_build);
criterion_main!(benches);
