package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"

	"github.com/fedactor/fedactor/internal/atomicfile"
)

// downloader fetches files into the cache.
type downloader struct {
	client   *http.Client // nil means http.DefaultClient
	progress io.Writer    // nil means silent
}

// download fetches url into path, atomically: the body is written to a
// temporary file in path's directory, checked against the hex SHA-256
// digest want and only then renamed to path. On any failure the temporary
// file is removed and path is left untouched.
func (d downloader) download(ctx context.Context, url, path, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	client := d.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", url, resp.Status)
	}

	// The file appears only once complete and verified; any failure
	// removes the partial download.
	return atomicfile.Write(path, func(w io.Writer) error {
		h := sha256.New()
		pw := &progressWriter{w: d.progress, name: url, total: resp.ContentLength}
		pw.report()
		n, err := io.Copy(io.MultiWriter(w, h, pw), resp.Body)
		if err != nil {
			return fmt.Errorf("download %s: after %d bytes: %w", url, n, err)
		}
		if resp.ContentLength <= 0 {
			pw.report() // the final size
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			return fmt.Errorf("download %s: got %d of %d bytes: %w", url, n, resp.ContentLength, io.ErrUnexpectedEOF)
		}
		if err := checkSum(h, want); err != nil {
			return fmt.Errorf("download %s: %w", url, err)
		}
		return nil
	})
}

// checkSum compares a finished hash with a hex digest.
func checkSum(h hash.Hash, want string) error {
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: SHA-256 is %s, want %s", ErrChecksum, got, want)
	}
	return nil
}

// progressWriter counts bytes and prints a line to w at the start and
// whenever another quarter of total has arrived (every 8 MiB when the
// total is unknown).
type progressWriter struct {
	w     io.Writer
	name  string
	total int64 // -1 if unknown
	done  int64
	step  int64 // last reported step
}

const unknownSizeStep = 8 << 20

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	var step int64
	if p.total > 0 {
		step = 4 * p.done / p.total
	} else {
		step = p.done / unknownSizeStep
	}
	if step > p.step {
		p.step = step
		p.report()
	}
	return len(b), nil
}

// report prints the current state. Errors writing progress are ignored:
// progress is advisory.
func (p *progressWriter) report() {
	if p.w == nil {
		return
	}
	if p.total > 0 {
		fmt.Fprintf(p.w, "download %s: %3d%% (%s of %s)\n", p.name, 100*p.done/p.total, size(p.done), size(p.total))
		return
	}
	fmt.Fprintf(p.w, "download %s: %s\n", p.name, size(p.done))
}

// size formats a byte count for humans.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
