// Package alerttest holds test helpers for alert delivery: a minimal SMTP
// server on 127.0.0.1 that records the messages it accepts and can be told
// to refuse them, so that tests exercise net/smtp for real.
package alerttest

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one accepted e-mail.
type Message struct {
	From string
	To   []string
	Data string
}

// SMTPServer speaks enough SMTP (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT) for net/smtp.SendMail.
type SMTPServer struct {
	ln     net.Listener
	mu     sync.Mutex
	msgs   []Message
	refuse int // refuse the next n messages with 451
	wg     sync.WaitGroup
}

// NewSMTPServer starts a server; t.Cleanup stops it.
func NewSMTPServer(t testing.TB) *SMTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen SMTP: %v", err)
	}
	s := &SMTPServer{ln: ln}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Addr is host:port.
func (s *SMTPServer) Addr() string { return s.ln.Addr().String() }

// Refuse makes the server answer 451 to the next n messages.
func (s *SMTPServer) Refuse(n int) {
	s.mu.Lock()
	s.refuse = n
	s.mu.Unlock()
}

// Messages returns the accepted messages.
func (s *SMTPServer) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

func (s *SMTPServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.session(c)
		}()
	}
}

func (s *SMTPServer) session(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(l string) { w.WriteString(l + "\r\n"); w.Flush() }
	reply("220 localhost ESMTP alerttest")
	var m Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO":
			reply("250-localhost")
			reply("250 8BITMIME")
		case "HELO", "NOOP":
			reply("250 ok")
		case "RSET":
			m = Message{}
			reply("250 ok")
		case "MAIL":
			m = Message{From: addr(line)}
			reply("250 ok")
		case "RCPT":
			m.To = append(m.To, addr(line))
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = b.String()
			s.mu.Lock()
			if s.refuse > 0 {
				s.refuse--
				s.mu.Unlock()
				reply("451 try again later")
				continue
			}
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// addr extracts the address of "MAIL FROM:<a@b>".
func addr(line string) string {
	i, j := strings.Index(line, "<"), strings.LastIndex(line, ">")
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}
