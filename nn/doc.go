// Package nn trains and evaluates the small image classifiers of fedactor's
// federated-learning experiments: sequential networks of Conv2D,
// MaxPool2D, ReLU, Flatten, Dropout and Dense layers with a softmax
// cross-entropy loss, optimised by SGD (with momentum) or Adam.
//
// # Models
//
// New builds the models used in the experiments by name: CNN (the Keras
// "simple MNIST convnet", 30,514 parameters), MLP (McMahan et al.'s 2NN,
// 199,210 parameters), LogReg (7,850 parameters), McMahanCNN (McMahan et
// al.'s MNIST CNN with 'same' padding, 1,663,370 parameters) and
// NIIDBenchCNN (a CIFAR-10 CNN for 3×32×32 inputs, 62,006 parameters).
// NewFor builds the same architectures for another input shape or class
// count (logistic regression on 60 features, 62 FEMNIST classes). NewModel
// builds any other sequential stack. NewRegression builds a regressor instead: its
// loss is the squared error of real-valued targets, read from a
// TargetSource (the linear-regression scenarios use it). Weights are initialised as in Keras (kernels
// Glorot-uniform, biases zero) from a caller-supplied *rand.Rand; the
// package has no global random state.
//
// # Parameter vector
//
// All trainable parameters of a Model form one flat vector, read with
// Params and written with SetParams as []float64 (the federated layers
// aggregate and encrypt these), or aliased as []float32 with Weights. The
// order is: layers in order, for each layer its kernel then its bias, with
// PyTorch layouts, so that the vector maps one to one onto a PyTorch
// state_dict (e.g. for a safetensors export):
//
//	Conv2D: kernel [filters][in channels][kh][kw], then bias [filters]
//	Dense:  weight [units][inputs], then bias [units]
//
// Activations are NCHW (a three-channel image is three planes, as in
// CIFAR-10's files), and Flatten orders features as C, H, W (like
// torch.flatten), so a Dense layer after Flatten has the same weight matrix
// as the PyTorch model. For CNN the vector is conv1 kernel (288) and bias
// (32), conv2 kernel (16,128) and bias (56), dense weight (14,000) and bias
// (10).
//
// # Precision
//
// Parameters, activations and gradients are float32 internally: it halves
// memory traffic and doubles SIMD width in the matrix products that
// dominate training, and it is what PyTorch and Keras use, so accuracy
// figures are comparable. Losses and accuracy are accumulated in float64.
// Only the flat parameter vector crosses the package boundary as float64,
// the type the aggregation and cryptography packages work on; SetParams
// rounds to float32.
//
// # Training
//
// A Trainer holds a Model, an Optimizer and all scratch memory
// (activations, im2col matrices, argmax codes, dropout masks, gradients),
// kept apart from the Model so that many models (one per federated data
// owner) of one architecture can share a few Trainers: set Trainer.Model
// and Trainer.Optimizer before each use. A Model costs only its
// parameters; Clone and CopyFrom copy them.
//
// The loss is the mean softmax cross-entropy over a batch, as in PyTorch
// and Keras. TrainEpoch shuffles with the caller's rng and trains every
// example, including a final partial batch. Data comes from a Source
// (implemented by package dataset) through a list of example indices.
//
// # Threads
//
// A batch is cut into micro-batches of a few examples at fixed positions,
// small enough for their activations to stay in cache. Trainer.Threads
// workers claim micro-batches (or, for large batches, fixed groups of
// them) in turn and write each one's gradient to its own buffer; the
// buffers are summed in order before the optimizer step.
// Dropout masks are drawn per example from a seed taken from the rng per
// batch and the example's position, so results are bit-for-bit the same
// for any Threads. Threads 0 means GOMAXPROCS; with Threads 1 all work
// happens on the calling goroutine, the right setting when several owners
// train side by side.
//
// # Backends
//
// Matrix products use gonum's pure-Go Sgemm by default. Built with the tag
// openblas (cgo, libopenblas-dev), they use OpenBLAS through
// gonum.org/v1/netlib, pinned to one thread per call because the package
// parallelises by itself, and the convolution's data-movement kernels
// (im2col, pooling) run as C. Backend reports which one is in use. Both
// builds pass the same tests.
package nn
