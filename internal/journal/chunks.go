package journal

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/numsync/numsync/internal/plan"
)

// What an operation is (its body and the CSV cells of its row) never
// changes once a run starts, and is read back whole (resume, show) or for
// a few operations (show --failed). It is stored in chunks of ChunkSize
// operations in plan order, each compressed: the JSON of neighbouring
// operations repeats itself (keys, actions, addresses), so a chunk shrinks
// to a small fraction of its rows stored one by one. The saved plan stored
// with the run is compressed the same way. Together this keeps a
// 100,000-operation run to a small fraction of what one row per operation
// body took (see BenchmarkJournalSize).

// ChunkSize is how many operations one stored chunk holds.
const ChunkSize = 256

// chunkVersion starts every chunk, so the format can change.
const chunkVersion = 1

// planMagic starts a compressed plan. A stored plan without it is an
// uncompressed one written before compression (JSON starts with '{').
var planMagic = []byte("NSZ1")

// chunkEntry is one operation in a chunk.
type chunkEntry struct {
	Op plan.Op `json:"op"`
	// Rec is the CSV record of the operation's row; omitted when none.
	Rec []string `json:"rec,omitempty"`
}

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.DefaultCompression)
	return w
}}

func compress(dst *bytes.Buffer, write func(w io.Writer) error) error {
	fw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(fw)
	fw.Reset(dst)
	if err := write(fw); err != nil {
		return err
	}
	return fw.Close()
}

// EncodeChunk returns the stored form of ops (at most ChunkSize) with their
// CSV records (records[op.ID], may be nil).
func EncodeChunk(ops []plan.Op, records map[string][]string) ([]byte, error) {
	var out bytes.Buffer
	out.WriteByte(chunkVersion)
	err := compress(&out, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for i := range ops {
			e := chunkEntry{Op: ops[i], Rec: records[ops[i].ID]}
			if err := enc.Encode(&e); err != nil {
				return fmt.Errorf("encode operation %s: %w", ops[i].ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// DecodeChunk reads what EncodeChunk wrote: the operations in order, each
// with its CSV record (nil when none was stored).
func DecodeChunk(b []byte) ([]plan.Op, [][]string, error) {
	if len(b) == 0 || b[0] != chunkVersion {
		return nil, nil, errors.New("journal: unknown operation chunk format")
	}
	r := flate.NewReader(bytes.NewReader(b[1:]))
	defer r.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(r, 32<<10))
	var (
		ops  []plan.Op
		recs [][]string
	)
	for {
		var e chunkEntry
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			return ops, recs, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("journal: decode operation chunk: %w", err)
		}
		ops = append(ops, e.Op)
		recs = append(recs, e.Rec)
	}
}

// CompressPlan returns the stored form of a saved plan; nil stays nil.
func CompressPlan(p []byte) ([]byte, error) {
	if p == nil {
		return nil, nil
	}
	var out bytes.Buffer
	out.Grow(len(p)/8 + 64)
	out.Write(planMagic)
	if err := compress(&out, func(w io.Writer) error { _, err := w.Write(p); return err }); err != nil {
		return nil, fmt.Errorf("journal: compress plan: %w", err)
	}
	return out.Bytes(), nil
}

// DecompressPlan reads what CompressPlan wrote. A plan stored before plans
// were compressed is returned as it is.
func DecompressPlan(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, planMagic) {
		return b, nil
	}
	r := flate.NewReader(bytes.NewReader(b[len(planMagic):]))
	defer r.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("journal: decompress plan: %w", err)
	}
	return out, nil
}

// ChunkText returns what a stored chunk holds as text (its JSON lines),
// for tools that scan a journal's contents, such as the tests that prove
// no secret was journaled: compression must not hide one from them.
func ChunkText(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != chunkVersion {
		return nil, errors.New("journal: unknown operation chunk format")
	}
	r := flate.NewReader(bytes.NewReader(b[1:]))
	defer r.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("journal: read operation chunk: %w", err)
	}
	return out, nil
}
