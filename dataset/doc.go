// Package dataset loads the classification datasets fedactor trains on
// (MNIST, Fashion-MNIST, CIFAR-10, FEMNIST) or generates them
// (Synthetic(α, β)), and splits training sets among data owners.
//
// # Sets
//
// A Set holds images compactly, one byte per pixel and one or more
// channel planes (CIFAR-10 has three), or, for the Synthetic(α, β) data,
// float32 features; it knows its class count (10, or 62 for FEMNIST). It
// hands examples to a model through Read, which scales pixels to [0, 1]
// as float32. Set and View (a subset selected by an index list, without
// copying pixels) satisfy the example-source interface of package nn:
//
//	Len() int
//	InputSize() int
//	Read(i int, dst []float32) int
//
// Table is the regression counterpart of a Set: dense float32 features
// with real-valued targets (nn's TargetSource). LinearData draws a seeded
// synthetic linear-regression Table with known coefficients.
//
// Sets come from IDX files (ReadImages, ReadLabels, ReadSet), raw or
// gzip-compressed. Readers validate magic numbers, dimensions and lengths,
// bound allocations by the data actually present, and report malformed
// input as errors wrapping ErrFormat; they never panic on bad input.
//
// # Where files come from
//
// Load takes a dataset name (Names) and returns its training and test
// sets. MNIST and Fashion-MNIST ("mnist", "fashion": 60,000 and 10,000
// examples) each have a directory name and four standard files:
//
//	mnist/ or fashion-mnist/
//	    train-images-idx3-ubyte.gz
//	    train-labels-idx1-ubyte.gz
//	    t10k-images-idx3-ubyte.gz
//	    t10k-labels-idx1-ubyte.gz
//
// Each file is taken from the first of these directories that holds it:
//
//  1. Options.Dir/<dir>/, a directory chosen by the user; DataDir resolves
//     it from a -data-dir flag, then the FEDACTOR_DATA environment
//     variable.
//  2. The cache, Options.CacheDir/<dir>/, by default
//     os.UserCacheDir()/fedactor/<dir>/ (on Linux
//     ~/.cache/fedactor/mnist/ and ~/.cache/fedactor/fashion-mnist/).
//  3. For Fashion-MNIST only, /usr/share/datasets/fashion-mnist/, where
//     Debian's dataset-fashion-mnist package installs it.
//  4. Otherwise the file is downloaded from the public mirror into the
//     cache, unless Options.Offline is set.
//
// Every file, local or downloaded, must match its published SHA-256
// digest; a mismatch is an error wrapping ErrChecksum and naming the file.
// Downloads are atomic: the body goes to a temporary file in the cache
// directory, named .<file>.*.tmp, that is renamed into place only once
// complete and verified and is removed otherwise, so the cache holds only
// verified files. Concurrent loaders may race to download a file; the
// last rename wins and every copy is identical.
//
// CIFAR-10 ("cifar10", the binary version: 50,000 and 10,000 3×32×32
// images) is read from the six batch files of cifar-10-batches-bin/
// (data_batch_1.bin to data_batch_5.bin, test_batch.bin) in Options.Dir or
// the cache, each checked against its SHA-256 digest. If any is missing,
// the official archive cifar-10-binary.tar.gz is taken from Options.Dir,
// the cache or a download into the cache, checked, and its batch files
// unpacked into the cache.
//
// FEMNIST ("femnist") is read from LEAF's JSON files (see ReadFEMNIST)
// under femnist/train/ and femnist/test/ in Options.Dir or the cache; it
// has no canonical download or digest. Its writers are its natural
// partition (Data.Natural).
//
// "synthetic" (with options, e.g. "synthetic:alpha=0.5,beta=0.5"; see
// ParseSynthetic) is generated from a seed, not loaded: the Synthetic(α,
// β) data of Li et al. 2020 with its 30 devices as the natural partition.
//
// # Partitions
//
// A Partitioner maps the labels of a training set and a seeded random
// source to one index list per data owner: Full, IID, Shards, Dirichlet
// and Quantity, or by name through NewPartitioner; Natural, built by
// NaturalPartitioner from a dataset that has a natural partition, hands
// out its devices or writers. Index lists are sorted;
// except for Full they are disjoint and cover every example. Subsample
// shrinks a set for quick runs and LabelHistogram summarises a partition.
//
// The package holds no mutable state: randomness comes from a
// *rand.Rand (math/rand/v2) passed by the caller, and configuration from
// Options.
package dataset
