// natspub: the yardstick for `nats-bun bench` — the official Go client (nats.go, as used by
// `nats bench`) publishing N messages as fast as it can, optionally with subscribers in the
// same process, printing one JSON line with the rates. Built against Debian's nats.go:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/natspub ./bench/go/natspub
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

type result struct {
	Client       string  `json:"client"`
	Msgs         int     `json:"msgs"`
	Size         int     `json:"size"`
	Pubs         int     `json:"pubs"`
	Subs         int     `json:"subs"`
	PubMsgsPerS  float64 `json:"pubMsgsPerSec"`
	SubMsgsPerS  float64 `json:"subMsgsPerSec"`
	SubsReceived int64   `json:"subsReceived"`
}

func main() {
	url := flag.String("s", nats.DefaultURL, "server URL")
	subject := flag.String("subject", "bench.go", "subject")
	msgs := flag.Int("msgs", 1000000, "messages in total")
	size := flag.Int("size", 16, "payload bytes")
	pubs := flag.Int("pubs", 1, "publishers")
	subs := flag.Int("subs", 0, "subscribers (each receives every message)")
	flag.Parse()

	payload := make([]byte, *size)
	var received int64
	var subStart, subEnd atomic.Int64
	subDone := make(chan struct{}, *subs)
	var subConns []*nats.Conn
	for i := 0; i < *subs; i++ {
		nc, err := nats.Connect(*url, nats.Name(fmt.Sprintf("natspub-S%d", i)))
		check(err)
		subConns = append(subConns, nc)
		count := 0
		sub, err := nc.Subscribe(*subject, func(m *nats.Msg) {
			now := time.Now().UnixNano()
			if count == 0 {
				subStart.CompareAndSwap(0, now)
			}
			count++
			atomic.AddInt64(&received, 1)
			if count == *msgs {
				subEnd.Store(now)
				subDone <- struct{}{}
			}
		})
		check(err)
		// Same as nats bench: no client-side pending limits, so nothing is dropped locally.
		check(sub.SetPendingLimits(-1, -1))
		check(nc.Flush())
	}
	var conns []*nats.Conn
	for i := 0; i < *pubs; i++ {
		nc, err := nats.Connect(*url, nats.Name(fmt.Sprintf("natspub-P%d", i)))
		check(err)
		conns = append(conns, nc)
	}
	var wg sync.WaitGroup
	start := time.Now()
	share := *msgs / *pubs
	for i, nc := range conns {
		count := share
		if i == 0 {
			count += *msgs % *pubs
		}
		wg.Add(1)
		go func(nc *nats.Conn, count int) {
			defer wg.Done()
			for j := 0; j < count; j++ {
				check(nc.Publish(*subject, payload))
			}
			check(nc.Flush())
		}(nc, count)
	}
	wg.Wait()
	pubElapsed := time.Since(start).Seconds()
	for i := 0; i < *subs; i++ {
		select {
		case <-subDone:
		case <-time.After(30 * time.Second):
			fmt.Fprintln(os.Stderr, "natspub: subscriber timed out")
			os.Exit(1)
		}
	}
	out := result{Client: "nats.go " + nats.Version, Msgs: *msgs, Size: *size, Pubs: *pubs, Subs: *subs,
		PubMsgsPerS: float64(*msgs) / pubElapsed, SubsReceived: atomic.LoadInt64(&received)}
	if *subs > 0 {
		out.SubMsgsPerS = float64(*msgs) / (float64(subEnd.Load()-subStart.Load()) / 1e9)
	}
	check(json.NewEncoder(os.Stdout).Encode(out))
	for _, nc := range append(conns, subConns...) {
		nc.Close()
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "natspub:", err)
		os.Exit(1)
	}
}
