// Package plots draws fedactor's figures as PNG files with gonum/plot.
//
// It takes plain slices (Series, category names) and never actor, crypto or
// nn types, so every experiment can use it. Each function writes one file;
// the image size is fixed so that figures of one run line up side by side.
package plots
