// The router benchmarks' load generator: not the thing measured, so not Node. Open loop at a fixed rate
// (latency counted from each request's scheduled start, so a stalled server cannot hide its queue), or a
// closed loop of -concurrency clients to find the saturation rate. Keep-alive connections, standard
// library only. Prints one JSON object.
//
//	loadgen -url http://127.0.0.1:8080/v1/chat/completions -body '{…}' -header 'authorization: Bearer k' -rate 1000 -seconds 20
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

type result struct {
	Rate        float64 `json:"rate"`
	Seconds     float64 `json:"seconds"`
	Sent        int     `json:"sent"`
	OK          int     `json:"ok"`
	Errors      int     `json:"errors"`
	Overloaded  int     `json:"overloaded"`
	AchievedRps float64 `json:"achieved_rps"`
	P50         float64 `json:"p50_ms"`
	P90         float64 `json:"p90_ms"`
	P99         float64 `json:"p99_ms"`
	P999        float64 `json:"p999_ms"`
	Max         float64 `json:"max_ms"`
}

func main() {
	url := flag.String("url", "", "target URL")
	body := flag.String("body", "", "request body (POST)")
	rate := flag.Float64("rate", 0, "requests per second (0: closed loop of -concurrency clients)")
	seconds := flag.Float64("seconds", 10, "how long to send")
	concurrency := flag.Int("concurrency", 256, "connections (and at most this many requests in flight)")
	var hs headers
	flag.Var(&hs, "header", "a request header 'name: value' (repeatable)")
	flag.Parse()
	if *url == "" {
		flag.Usage()
		os.Exit(2)
	}
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: *concurrency, MaxIdleConnsPerHost: *concurrency, MaxConnsPerHost: *concurrency, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
	send := func() bool {
		req, _ := http.NewRequest(http.MethodPost, *url, bytes.NewReader([]byte(*body)))
		for _, h := range hs {
			if i := strings.Index(h, ":"); i > 0 {
				req.Header.Set(strings.TrimSpace(h[:i]), strings.TrimSpace(h[i+1:]))
			}
		}
		res, err := client.Do(req)
		if err != nil {
			return false
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return err == nil && res.StatusCode == 200
	}

	var mu sync.Mutex
	var latencies []float64
	r := result{Rate: *rate, Seconds: *seconds}
	record := func(start time.Time, ok bool) {
		ms := float64(time.Since(start).Microseconds()) / 1000
		mu.Lock()
		if ok {
			r.OK++
			latencies = append(latencies, ms)
		} else {
			r.Errors++
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	began := time.Now()
	end := began.Add(time.Duration(*seconds * float64(time.Second)))
	if *rate > 0 {
		slots := make(chan struct{}, *concurrency)
		interval := time.Duration(float64(time.Second) / *rate)
		for i := 0; ; i++ {
			at := began.Add(time.Duration(i) * interval)
			if !at.Before(end) {
				break
			}
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			r.Sent++
			select {
			case slots <- struct{}{}:
			default:
				r.Overloaded++ // every connection busy: the server has fallen behind this rate
				continue
			}
			wg.Add(1)
			go func(at time.Time) {
				defer wg.Done()
				record(at, send())
				<-slots
			}(at)
		}
	} else {
		for c := 0; c < *concurrency; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					start := time.Now()
					ok := send()
					record(start, ok)
					mu.Lock()
					r.Sent++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(began).Seconds()
	r.AchievedRps = float64(r.OK) / elapsed
	sort.Float64s(latencies)
	q := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(p*float64(len(latencies)-1))]
	}
	r.P50, r.P90, r.P99, r.P999 = q(0.5), q(0.9), q(0.99), q(0.999)
	if len(latencies) > 0 {
		r.Max = latencies[len(latencies)-1]
	}
	json.NewEncoder(os.Stdout).Encode(r)
}
