package actors

import "fmt"

// Party names. Data owners are named by OwnerNames.
const (
	SecureWorkerName = "secure-worker"
	ModelOwnerName   = "model-owner"
)

// ownerNames are the first data owners' names, after the classic tutorial.
var ownerNames = [...]string{"bob", "alice", "carol", "dave", "eve", "frank", "grace", "heidi"}

// OwnerName returns the name of data owner i (0-based): bob, alice, carol,
// dave, eve, frank, grace, heidi, then owner-09, owner-10, ...
func OwnerName(i int) string {
	if i < len(ownerNames) {
		return ownerNames[i]
	}
	return fmt.Sprintf("owner-%02d", i+1)
}

// OwnerNames returns the names of n data owners.
func OwnerNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = OwnerName(i)
	}
	return names
}
