// Command localcloud runs a serverless application locally: real Lambda
// function binaries with SQS, SNS and S3 around them, all on 127.0.0.1.
//
//	localcloud -f app.json [-extension ./ariadne-extension]
//
// See demo/localcloud/README.md for the description format.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "localcloud:", err)
		}
		stop()
		os.Exit(1)
	}
}
