package sns_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/ariadnehq/ariadne/demo/localcloud/localcloudtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, localcloudtest.LeakOptions()...) }
