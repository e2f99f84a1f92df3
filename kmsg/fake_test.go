package kmsg

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"

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

// fakeKernel plays the kernel's side of /dev/kmsg for a Reader: a ring
// buffer that holds the newest records, and file descriptions opened on it,
// each with its own position, as devkmsg_open, devkmsg_llseek and
// devkmsg_read keep them. Its parsers behave like go-kmsg-parser v2.1.0 on
// top: a read that finds its position overwritten fails with EPIPE, which
// the library logs before closing its channel.
type fakeKernel struct {
	mu       sync.Mutex
	capacity int
	first    uint64               // sequence number of records[0]
	records  []kmsgparser.Message // the records held, oldest first
	wake     chan struct{}        // closed and replaced when readers must look again
	parsers  []*kernelParser

	// Set before the reader starts. onOpen runs after each open, before
	// the parser reads; onOverrun when a read fails with EPIPE, before the
	// parser gives up: what the kernel writes then lands in the window
	// before the reader reopens.
	onOpen, onOverrun func()
}

func newFakeKernel(capacity int) *fakeKernel {
	return &fakeKernel{capacity: capacity, first: 1, wake: make(chan struct{})}
}

// next is the sequence number the next record will get; k.mu is held.
func (k *fakeKernel) next() uint64 { return k.first + uint64(len(k.records)) }

// write adds records in one go, faster than any reader: what overflows the
// ring is dropped before a reader can run. It returns the first and last
// sequence numbers written.
func (k *fakeKernel) write(priority int, texts ...string) (first, last uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	first = k.next()
	for _, text := range texts {
		k.records = append(k.records, kmsgparser.Message{SequenceNumber: int(k.next()), Priority: priority, Message: text + "\n"})
	}
	if drop := len(k.records) - k.capacity; drop > 0 {
		k.records = append([]kmsgparser.Message(nil), k.records[drop:]...)
		k.first += uint64(drop)
	}
	k.broadcast()
	return first, k.next() - 1
}

// noise writes n kernel records (facility 0, level 6) in one go.
func (k *fakeKernel) noise(n int) (first, last uint64) {
	texts := make([]string, n)
	for i := range texts {
		texts[i] = "noise " + strconv.Itoa(i)
	}
	return k.write(6, texts...)
}

// failReaders makes every open parser's next read fail with an error other
// than EPIPE: the library logs it and closes its channel, while the ring
// keeps every record.
func (k *fakeKernel) failReaders() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, p := range k.parsers {
		p.failed = true
	}
	k.broadcast()
}

// broadcast wakes every parser waiting for a record; k.mu is held.
func (k *fakeKernel) broadcast() {
	close(k.wake)
	k.wake = make(chan struct{})
}

// open is an Opener. Like a fresh open of /dev/kmsg, the parser it returns
// reads from the oldest record held until SeekEnd moves it to the end.
func (k *fakeKernel) open() (kmsgparser.Parser, error) {
	k.mu.Lock()
	p := &kernelParser{k: k, pos: k.first, closed: make(chan struct{})}
	k.parsers = append(k.parsers, p)
	k.mu.Unlock()
	if k.onOpen != nil {
		k.onOpen()
	}
	return p, nil
}

// opened returns the parsers opened so far.
func (k *fakeKernel) opened() []*kernelParser {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]*kernelParser(nil), k.parsers...)
}

// kernelParser is one open /dev/kmsg read by go-kmsg-parser.
type kernelParser struct {
	k      *fakeKernel
	closed chan struct{}
	once   sync.Once

	// Guarded by k.mu.
	pos      uint64
	failed   bool
	seekEnds int
	log      kmsgparser.Logger
}

func (p *kernelParser) SeekEnd() error {
	p.k.mu.Lock()
	defer p.k.mu.Unlock()
	p.pos = p.k.next()
	p.seekEnds++
	return nil
}

func (p *kernelParser) sawSeekEnd() int {
	p.k.mu.Lock()
	defer p.k.mu.Unlock()
	return p.seekEnds
}

func (p *kernelParser) SetLogger(l kmsgparser.Logger) {
	p.k.mu.Lock()
	defer p.k.mu.Unlock()
	p.log = l
}

func (p *kernelParser) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

// Parse reads records from the parser's position, one at a time, like
// go-kmsg-parser's goroutine, and ends the way v2.1.0 does.
func (p *kernelParser) Parse() <-chan kmsgparser.Message {
	p.k.mu.Lock()
	log := p.log
	p.k.mu.Unlock()
	fail := func(err error) {
		if log != nil {
			log.Errorf("error reading /dev/kmsg: %v", err)
		}
	}
	out := make(chan kmsgparser.Message)
	go func() {
		defer close(out)
		for {
			m, wake, err := p.read()
			if err != nil {
				if errors.Is(err, syscall.EPIPE) && p.k.onOverrun != nil {
					p.k.onOverrun()
				}
				fail(err)
				return
			}
			if wake != nil {
				select {
				case <-wake:
					continue
				case <-p.closed:
					fail(&fs.PathError{Op: "read", Path: "/dev/kmsg", Err: os.ErrClosed})
					return
				}
			}
			select {
			case out <- m:
			case <-p.closed:
				return
			}
		}
	}()
	return out
}

// read is devkmsg_read: the record at the position, or a channel to wait
// on when there is none yet, or the error the read fails with.
func (p *kernelParser) read() (kmsgparser.Message, <-chan struct{}, error) {
	k := p.k
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case p.failed:
		return kmsgparser.Message{}, nil, &fs.PathError{Op: "read", Path: "/dev/kmsg", Err: syscall.EIO}
	case p.pos < k.first:
		// Our position was overwritten. The kernel moves it to the
		// oldest record held and fails the read; os.File wraps the
		// error, so v2.1.0 does not recognise it and gives up.
		p.pos = k.first
		return kmsgparser.Message{}, nil, &fs.PathError{Op: "read", Path: "/dev/kmsg", Err: syscall.EPIPE}
	case p.pos < k.next():
		m := k.records[p.pos-k.first]
		p.pos++
		return m, nil, nil
	default:
		return kmsgparser.Message{}, k.wake, nil
	}
}
