package kmsg

import (
	"strconv"
	"sync"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
)

// fakeParser stands in for go-kmsg-parser: the test feeds its channel and
// closes it to play an overrun, as v2.1.0 does on EPIPE.
type fakeParser struct {
	msgs     chan kmsgparser.Message
	seekEnds int
	once     sync.Once
	closed   chan struct{}
}

func newFakeParser() *fakeParser {
	return &fakeParser{msgs: make(chan kmsgparser.Message), closed: make(chan struct{})}
}

func (p *fakeParser) SeekEnd() error                   { p.seekEnds++; return nil }
func (p *fakeParser) Parse() <-chan kmsgparser.Message { return p.msgs }
func (p *fakeParser) SetLogger(kmsgparser.Logger)      {}

// Close ends the stream like the real parser: its goroutine sees the
// closed file and closes the channel.
func (p *fakeParser) Close() error {
	p.stop()
	return nil
}

func (p *fakeParser) stop() {
	p.once.Do(func() {
		close(p.msgs)
		close(p.closed)
	})
}

// send delivers one record with the given sequence number and text.
func (p *fakeParser) send(seq, priority int, text string) {
	p.msgs <- kmsgparser.Message{SequenceNumber: seq, Priority: priority, Message: text + "\n"}
}

// recordingSink remembers what a Reader passed on.
type recordingSink struct {
	mu     sync.Mutex
	events []string
}

func (s *recordingSink) Observe(r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, "record "+itoa(r.Seq))
}

func (s *recordingSink) Lost(n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, "lost "+itoa(n))
}

func (s *recordingSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
