package rightsize

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// History is a recorded usage history: per container, one CPU figure
// (average millicores over the step) and one memory figure (peak working
// set over the step, MiB) per step. The demo ships one, so that `purser
// rightsize --demo` needs no Prometheus; Usage computes from it what
// Prometheus computes from its samples.
type History struct {
	Source string
	Start  time.Time
	Step   time.Duration
	Series []Series
}

// Series is one container's recorded history.
type Series struct {
	Namespace, Pod, Container string
	CPUMilli                  []int64
	MemoryMiB                 []int64
	OOMKilled                 bool
	Restarts                  int64
}

// HistoryHeader is the first line of a history file.
const HistoryHeader = "# purser usage history v1"

// Usage is the history's usage over the last window of it: the CPU
// percentile by Prometheus' quantile definition, the largest memory
// figure, and as many samples as steps.
func (h *History) Usage(percentile float64, window time.Duration) (*Usage, error) {
	if h.Step <= 0 {
		return nil, fmt.Errorf("usage history %s: no step", h.Source)
	}
	u := &Usage{Source: "recorded history " + h.Source, OOMSource: "the recorded history's OOM kills", Window: Duration(window), Step: Duration(h.Step), Percentile: percentile,
		Containers: map[ContainerKey]ContainerUsage{}}
	keep := int(window / h.Step)
	for _, s := range h.Series {
		cpu, mem := s.CPUMilli, s.MemoryMiB
		if len(cpu) > keep {
			cpu = cpu[len(cpu)-keep:]
		}
		if len(mem) > keep {
			mem = mem[len(mem)-keep:]
		}
		if len(cpu) == 0 {
			continue
		}
		vals := make([]float64, len(cpu))
		for i, v := range cpu {
			vals[i] = float64(v)
		}
		var peak int64
		for _, v := range mem {
			peak = max(peak, v)
		}
		u.Containers[ContainerKey{s.Namespace, s.Pod, s.Container}] = ContainerUsage{
			CPUMilli: int64(Quantile(percentile, vals) + 0.5), MemoryBytes: peak << 20,
			Samples: int64(len(cpu)), History: time.Duration(len(cpu)) * h.Step, OOMKilled: s.OOMKilled, Restarts: s.Restarts}
	}
	return u, nil
}

// WriteHistory writes h in the history format, gzip-compressed:
//
//	# purser usage history v1
//	source NAME
//	start 2026-11-17T00:00:00Z
//	step 1h
//	container NAMESPACE POD CONTAINER oom=0 restarts=0
//	cpu 12 14 …      (millicores, one per step)
//	memory 120 121 … (MiB, one per step)
func WriteHistory(w io.Writer, h *History) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	b := bufio.NewWriter(zw)
	fmt.Fprintf(b, "%s\nsource %s\nstart %s\nstep %s\n", HistoryHeader, h.Source, h.Start.UTC().Format(time.RFC3339), h.Step)
	ints := func(name string, vs []int64) {
		b.WriteString(name)
		for _, v := range vs {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatInt(v, 10))
		}
		b.WriteByte('\n')
	}
	for _, s := range h.Series {
		oom := 0
		if s.OOMKilled {
			oom = 1
		}
		fmt.Fprintf(b, "container %s %s %s oom=%d restarts=%d\n", s.Namespace, s.Pod, s.Container, oom, s.Restarts)
		ints("cpu", s.CPUMilli)
		ints("memory", s.MemoryMiB)
	}
	if err := b.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// ParseHistory reads a history WriteHistory wrote; name is the file's
// name for errors, which give its line.
func ParseHistory(name string, data []byte) (*History, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("usage history %s: %w", name, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	h := &History{}
	line := 0
	fail := func(format string, a ...any) error {
		return fmt.Errorf("usage history %s:%d: %s", name, line, fmt.Sprintf(format, a...))
	}
	ints := func(fields []string) ([]int64, error) {
		out := make([]int64, len(fields))
		for i, f := range fields {
			v, err := strconv.ParseInt(f, 10, 64)
			if err != nil || v < 0 {
				return nil, fail("value %d %q: expected a whole number, 0 or more", i+1, f)
			}
			out[i] = v
		}
		return out, nil
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			if text != HistoryHeader {
				return nil, fail("expected %q", HistoryHeader)
			}
			continue
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		var cur *Series
		if n := len(h.Series); n > 0 {
			cur = &h.Series[n-1]
		}
		switch fields[0] {
		case "source":
			h.Source = strings.TrimSpace(strings.TrimPrefix(text, "source"))
		case "start":
			if len(fields) != 2 {
				return nil, fail("start: expected one RFC 3339 time")
			}
			if h.Start, err = time.Parse(time.RFC3339, fields[1]); err != nil {
				return nil, fail("start: %v", err)
			}
		case "step":
			if len(fields) != 2 {
				return nil, fail("step: expected one duration")
			}
			if h.Step, err = time.ParseDuration(fields[1]); err != nil || h.Step <= 0 {
				return nil, fail("step %q: expected a positive duration such as 1h", fields[1])
			}
		case "container":
			if len(fields) != 6 || !strings.HasPrefix(fields[4], "oom=") || !strings.HasPrefix(fields[5], "restarts=") {
				return nil, fail("expected: container NAMESPACE POD CONTAINER oom=0|1 restarts=N")
			}
			restarts, err := strconv.ParseInt(strings.TrimPrefix(fields[5], "restarts="), 10, 64)
			if err != nil || restarts < 0 {
				return nil, fail("restarts %q: expected a whole number, 0 or more", fields[5])
			}
			h.Series = append(h.Series, Series{Namespace: fields[1], Pod: fields[2], Container: fields[3],
				OOMKilled: fields[4] == "oom=1", Restarts: restarts})
		case "cpu", "memory":
			if cur == nil {
				return nil, fail("%s before any container line", fields[0])
			}
			vs, err := ints(fields[1:])
			if err != nil {
				return nil, err
			}
			if fields[0] == "cpu" {
				cur.CPUMilli = vs
			} else {
				cur.MemoryMiB = vs
			}
		default:
			return nil, fail("unknown line %q", fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("usage history %s: %w", name, err)
	}
	if h.Step <= 0 {
		return nil, fmt.Errorf("usage history %s: no step line", name)
	}
	return h, nil
}
