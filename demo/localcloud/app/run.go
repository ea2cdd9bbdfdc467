package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
)

// Run is the localcloud command: it starts the application described by
// the -f file and serves it until ctx is done.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("localcloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "localcloud.json", "application description (JSON)")
	var exts multiFlag
	fs.Var(&exts, "extension", "extension executable attached to every function (repeatable)")
	var addrs Addrs
	fs.StringVar(&addrs.Lambda, "lambda-addr", "127.0.0.1:0", "Lambda API listen address")
	fs.StringVar(&addrs.SQS, "sqs-addr", "127.0.0.1:0", "SQS listen address")
	fs.StringVar(&addrs.SNS, "sns-addr", "127.0.0.1:0", "SNS listen address")
	fs.StringVar(&addrs.S3, "s3-addr", "127.0.0.1:0", "S3 listen address")
	quiet := fs.Bool("quiet", false, "do not print function logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	desc, err := LoadFile(*file)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	logs := func(l lambda.LogLine) {
		if *quiet {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, "%s %-12s %s\n", l.Time.UTC().Format("15:04:05.000"), l.Function, l.Text)
	}
	cloud, err := Start(ctx, desc, Settings{Logs: logs, Extensions: exts, Addrs: addrs})
	if err != nil {
		return err
	}
	defer cloud.Close()
	env := cloud.Env()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mu.Lock()
	fmt.Fprintf(stdout, "localcloud is up; point aws-sdk-go-v2 or the AWS CLI at it with:\n")
	for _, k := range keys {
		fmt.Fprintf(stdout, "export %s=%s\n", k, env[k])
	}
	mu.Unlock()
	<-ctx.Done()
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
