module example.com/sdkfn

go 1.26.0

require (
	github.com/ariadnehq/ariadne/sdk v0.0.0
	github.com/aws/aws-lambda-go v1.55.1
)

// The SDK of this repository, not a published version. The test builds a
// copy of this module with the path made absolute, the SDK's go.sum, and
// -mod=mod, so that it follows the SDK's requirements as they change.
replace github.com/ariadnehq/ariadne/sdk => ../../../sdk
