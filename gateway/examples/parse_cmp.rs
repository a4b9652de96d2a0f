use std::time::Instant;
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let data = std::fs::read("/tmp/contacts-100k.jsonl").unwrap();
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    for round in 0..3 {
        let t = Instant::now();
        let mut n = 0;
        for l in &lines {
            let r: dss_core::Record = serde_json::from_slice(l).unwrap();
            n += r.fields.len();
        }
        let a = t.elapsed();
        let t = Instant::now();
        for l in &lines {
            let r: dss_core::Record = sonic_rs::from_slice(l).unwrap();
            n += r.fields.len();
        }
        let b = t.elapsed();
        let recs: Vec<dss_core::Record> = lines
            .iter()
            .map(|l| sonic_rs::from_slice(l).unwrap())
            .collect();
        let t = Instant::now();
        let mut out = Vec::with_capacity(2 << 20);
        for r in &recs {
            out.clear();
            dss_core::json::write_record(&mut out, r);
            n += out.len();
        }
        let c = t.elapsed();
        let t = Instant::now();
        for r in &recs {
            out.clear();
            serde_json::to_writer(&mut out, r).unwrap();
            n += out.len();
        }
        let d = t.elapsed();
        let t = Instant::now();
        drop(recs);
        let e = t.elapsed();
        println!(
            "round {round}: serde_json parse {:?}/rec, sonic parse {:?}/rec, dss write {:?}/rec, serde write {:?}/rec, drop {:?}/rec ({n})",
            a / lines.len() as u32,
            b / lines.len() as u32,
            c / lines.len() as u32,
            d / lines.len() as u32,
            e / lines.len() as u32
        );
    }
}
