//! A bounded load client for `drg serve`, for scripts/bench-serve.sh: a fixed
//! number of keep-alive HTTP/1.1 connections, each sending its share of a
//! fixed number of requests one after the other, timing each.
//!
//! Usage: serve_load ADDR PATH BODY_FILE REQUESTS CONNECTIONS [PID]
//!
//! Prints `name value unit` lines: requests/s, latency percentiles (ms), and,
//! given the server's PID, its resident memory (MB) after each tenth of the
//! requests (`rss_0` … `rss_10`), to see whether it stays flat, and the CPU
//! seconds it used (`server_cpu`): on a machine shared with other work, the
//! figure that does not depend on how much of the CPU the server was given.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The CPU seconds (user and system) a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Reads one answer, returning its status and body length; fails on
/// anything but 200.
fn read_answer(reader: &mut BufReader<TcpStream>, line: &mut String) -> std::io::Result<usize> {
    line.clear();
    reader.read_line(line)?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("answer: {line:?}")));
    }
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        reader.read_line(line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut total = 0;
    let mut sink = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(line)?;
            let size = usize::from_str_radix(line.trim(), 16).map_err(std::io::Error::other)?;
            sink.resize(size + 2, 0);
            reader.read_exact(&mut sink)?;
            if size == 0 {
                return Ok(total);
            }
            total += size;
        }
    }
    let n = length.ok_or_else(|| std::io::Error::other("no length"))?;
    sink.resize(n, 0);
    reader.read_exact(&mut sink)?;
    Ok(n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: serve_load ADDR PATH BODY_FILE REQUESTS CONNECTIONS [PID]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let path = args[2].clone();
    let body = std::fs::read(&args[3]).expect("the body file");
    let requests: u64 = args[4].parse().expect("REQUESTS");
    let connections: u64 = args[5].parse().expect("CONNECTIONS");
    let pid: Option<u32> = args.get(6).map(|p| p.parse().expect("PID"));

    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let request = Arc::new(request);
    let done = Arc::new(AtomicU64::new(0));

    let rss = pid.map(|pid| {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut samples = vec![rss_mb(pid)];
            for tenth in 1..=10u64 {
                while done.load(Ordering::Relaxed) < requests * tenth / 10 {
                    std::thread::sleep(Duration::from_millis(20));
                }
                samples.push(rss_mb(pid));
            }
            samples
        })
    });

    let cpu_before = pid.map(cpu_seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|c| {
            let share = requests / connections + u64::from(c < requests % connections);
            let (addr, request, done) = (addr.clone(), Arc::clone(&request), Arc::clone(&done));
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&addr).expect("connect");
                stream.set_nodelay(true).unwrap();
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::with_capacity(1 << 16, stream);
                let mut line = String::new();
                let mut micros = Vec::with_capacity(share as usize);
                let mut bytes = 0usize;
                for _ in 0..share {
                    let t = Instant::now();
                    writer.write_all(&request).expect("send");
                    bytes += read_answer(&mut reader, &mut line).expect("answer");
                    micros.push(t.elapsed().as_micros() as u32);
                    done.fetch_add(1, Ordering::Relaxed);
                }
                (micros, bytes)
            })
        })
        .collect();
    let mut micros = Vec::with_capacity(requests as usize);
    let mut bytes = 0;
    for w in workers {
        let (m, b) = w.join().expect("a connection failed");
        micros.extend(m);
        bytes += b;
    }
    let seconds = started.elapsed().as_secs_f64();
    if let (Some(pid), Some(before)) = (pid, cpu_before) {
        println!("server_cpu {:.3} s", cpu_seconds(pid) - before);
    }
    micros.sort_unstable();
    let pct = |p: f64| micros[((micros.len() as f64 * p) as usize).min(micros.len() - 1)] as f64 / 1000.0;
    println!("requests {requests} requests");
    println!("seconds {seconds:.3} s");
    println!("rate {:.0} requests/s", requests as f64 / seconds);
    println!("p50 {:.3} ms", pct(0.50));
    println!("p99 {:.3} ms", pct(0.99));
    println!("p999 {:.3} ms", pct(0.999));
    println!("answer_bytes {bytes} bytes");
    if let Some(rss) = rss {
        for (i, mb) in rss.join().unwrap().iter().enumerate() {
            println!("rss_{i} {mb:.1} MB");
        }
    }
}
