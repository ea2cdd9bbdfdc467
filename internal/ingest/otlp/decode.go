package otlp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Encoding is the body format of an OTLP/HTTP request.
type Encoding uint8

const (
	EncodingProto Encoding = iota + 1
	EncodingJSON
)

// Content types of the OTLP/HTTP specification.
const (
	ContentTypeProto = "application/x-protobuf"
	ContentTypeJSON  = "application/json"
)

func (e Encoding) contentType() string {
	if e == EncodingJSON {
		return ContentTypeJSON
	}
	return ContentTypeProto
}

func (e Encoding) String() string {
	if e == EncodingJSON {
		return "json"
	}
	return "protobuf"
}

// Errors of decoding, classified at the edge (errKindOf).
var (
	// ErrTooLarge: the body exceeds the limit, as sent or decompressed.
	ErrTooLarge = errors.New("request body too large")
	// ErrUnsupportedEncoding: a Content-Encoding this server cannot read.
	ErrUnsupportedEncoding = errors.New("unsupported content encoding")
	// ErrMalformed: the body is not a valid OTLP request.
	ErrMalformed = errors.New("malformed request")
)

// maxJSONNesting bounds bracket nesting in an OTLP/JSON body before pdata
// sees it: pdata's JSON decoder recurses once per AnyValue level with no
// limit of its own, so a 20 MiB body of "[{" could take gigabytes of stack.
// The envelope takes about ten levels and each AnyValue level three, so this
// admits the 100 value levels pdata's protobuf decoder admits; deeper values
// within it are refused span by span by MaxValueDepth.
const maxJSONNesting = 16 + 3*100

// pools hold what decoding a body reuses between requests: body buffers
// and decompressors (a zstd decoder costs hundreds of KiB to build). Each
// Receiver owns one.
type pools struct {
	bufs  sync.Pool
	gzips sync.Pool
	zstds sync.Pool
}

// maxPooledBuffer: buffers that grew past it are dropped instead of pooled,
// so one huge request does not pin its memory.
const maxPooledBuffer = 4 << 20

func (p *pools) getBuffer() *bytes.Buffer {
	if b, ok := p.bufs.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

func (p *pools) putBuffer(b *bytes.Buffer) {
	if b == nil || b.Cap() > maxPooledBuffer {
		return
	}
	p.bufs.Put(b)
}

// readLimited reads r into buf and fails with ErrTooLarge when r holds more
// than limit bytes. It reads at most limit+1 bytes whatever r holds: the
// guard against decompression bombs is that nothing past the limit is ever
// produced, not that it is checked afterwards.
func readLimited(r io.Reader, limit int64, buf *bytes.Buffer) error {
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if n > limit {
		return fmt.Errorf("read body: more than %d bytes: %w", limit, ErrTooLarge)
	}
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	return nil
}

// decompress returns the body decoded from encoding into out, limited to
// limit bytes after decompression.
func (p *pools) decompress(encoding string, in []byte, limit int64, out *bytes.Buffer) error {
	switch encoding {
	case "gzip", "x-gzip":
		var zr *gzip.Reader
		if v := p.gzips.Get(); v != nil {
			zr = v.(*gzip.Reader)
			if err := zr.Reset(bytes.NewReader(in)); err != nil {
				p.gzips.Put(zr)
				return fmt.Errorf("read gzip body: %v: %w", err, ErrMalformed)
			}
		} else {
			var err error
			if zr, err = gzip.NewReader(bytes.NewReader(in)); err != nil {
				return fmt.Errorf("read gzip body: %v: %w", err, ErrMalformed)
			}
		}
		defer p.gzips.Put(zr)
		return readDecompressed(zr, "gzip", limit, out)
	case "zstd":
		var zr *zstd.Decoder
		if v := p.zstds.Get(); v != nil {
			zr = v.(*zstd.Decoder)
			if err := zr.Reset(bytes.NewReader(in)); err != nil {
				return fmt.Errorf("read zstd body: %v: %w", err, ErrMalformed)
			}
		} else {
			var err error
			// One goroutine-free decoder per request, and a window no
			// larger than the body limit: a frame that claims more is a bomb.
			zr, err = zstd.NewReader(bytes.NewReader(in),
				zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxMemory(uint64(limit)+1),
				zstd.WithDecoderMaxWindow(uint64(min(limit, 64<<20))+1))
			if err != nil {
				return fmt.Errorf("read zstd body: %v: %w", err, ErrMalformed)
			}
		}
		defer func() {
			_ = zr.Reset(nil)
			p.zstds.Put(zr)
		}()
		return readDecompressed(zr, "zstd", limit, out)
	case "deflate":
		zr, err := zlib.NewReader(bytes.NewReader(in))
		if err != nil {
			return fmt.Errorf("read deflate body: %v: %w", err, ErrMalformed)
		}
		defer zr.Close()
		return readDecompressed(zr, "deflate", limit, out)
	}
	return fmt.Errorf("content encoding %q (want gzip, zstd, deflate or none): %w", truncate(encoding), ErrUnsupportedEncoding)
}

func readDecompressed(r io.Reader, name string, limit int64, out *bytes.Buffer) error {
	n, err := out.ReadFrom(io.LimitReader(r, limit+1))
	if n > limit {
		return fmt.Errorf("decompress %s body: more than %d bytes: %w", name, limit, ErrTooLarge)
	}
	if err != nil {
		return fmt.Errorf("decompress %s body: %v: %w", name, err, ErrMalformed)
	}
	return nil
}

// DecodeTraces parses an OTLP ExportTraceServiceRequest body. An empty body
// is an empty request. Errors wrap ErrMalformed and say what is wrong.
func DecodeTraces(body []byte, enc Encoding) (ptrace.Traces, error) {
	req := ptraceotlp.NewExportRequest()
	if len(body) == 0 {
		return req.Traces(), nil
	}
	var err error
	switch enc {
	case EncodingJSON:
		if err = checkJSONNesting(body); err == nil {
			err = req.UnmarshalJSON(body)
		}
	default:
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return ptrace.Traces{}, fmt.Errorf("decode OTLP/%s traces request: %s: %w", enc, describe(err), ErrMalformed)
	}
	return req.Traces(), nil
}

// DecodeLogs parses an OTLP ExportLogsServiceRequest body, like DecodeTraces.
func DecodeLogs(body []byte, enc Encoding) (plog.Logs, error) {
	req := plogotlp.NewExportRequest()
	if len(body) == 0 {
		return req.Logs(), nil
	}
	var err error
	switch enc {
	case EncodingJSON:
		if err = checkJSONNesting(body); err == nil {
			err = req.UnmarshalJSON(body)
		}
	default:
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return plog.Logs{}, fmt.Errorf("decode OTLP/%s logs request: %s: %w", enc, describe(err), ErrMalformed)
	}
	return req.Logs(), nil
}

// describe turns a decoder error into a short message that names the
// problem; jsoniter's errors quote up to kilobytes of the input.
func describe(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "ID.UnmarshalJSONIter") {
		detail := "not hex"
		if strings.Contains(msg, "length mismatch") {
			detail = "wrong length"
		}
		return "invalid trace or span id (" + detail + "; OTLP/JSON ids are hex strings of 32 and 16 digits)" + jsonContext(msg)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// jsonContext extracts jsoniter's "error found in #N byte of ...|near|..." hint.
func jsonContext(msg string) string {
	i := strings.Index(msg, "error found in #")
	if i < 0 {
		return ""
	}
	s := msg[i:]
	if j := strings.Index(s, ", bigger context"); j >= 0 {
		s = s[:j]
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return ": " + s
}

// checkJSONNesting refuses bodies whose brackets nest deeper than
// maxJSONNesting, scanning once without allocating.
func checkJSONNesting(body []byte) error {
	depth := 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxJSONNesting {
				return fmt.Errorf("JSON nested deeper than %d levels at byte %d", maxJSONNesting, i)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
