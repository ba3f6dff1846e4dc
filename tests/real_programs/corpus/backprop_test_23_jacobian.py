# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, JacobianTest._jacobian (testPfor, testWhileLoop), testPersistentTape,
# test_parallel_iterations, test_indexed_slices.
# Changes: array_ops.diag -> tf.linalg.diag; assertAllEqual -> NumPy comparison; random inputs replaced by fixed values; asserts become
# prints.
import tensorflow as tf

for use_pfor in (True, False):
    with tf.GradientTape(persistent=not use_pfor) as g:
        x = tf.constant([1.0, 2.0])
        y = tf.constant([3.0, 4.0])
        g.watch(x)
        g.watch(y)
        z = x * x * y
    jacobian = g.jacobian(z, [x, y], experimental_use_pfor=use_pfor)
    answer = [tf.linalg.diag(2 * x * y), tf.linalg.diag(x * x)]
    print(
        [j.numpy().tolist() for j in jacobian],
        [bool((j.numpy() == a.numpy()).all()) for j, a in zip(jacobian, answer, strict=True)],
    )

with tf.GradientTape() as g:
    x = tf.constant([1.0, 2.0])
    g.watch(x)
    y = x * x
try:
    g.jacobian(y, x, experimental_use_pfor=False)
except RuntimeError as error:
    print("RuntimeError:", error)

with tf.GradientTape(persistent=True) as g:
    x = tf.constant([[1.0, 2], [3, 4]])
    g.watch(x)
    y = tf.matmul(x, x)
two, three = (g.jacobian(y, x, parallel_iterations=n) for n in (2, 3))
print(two.shape, (two.numpy() == three.numpy()).all())

with tf.GradientTape(persistent=True) as g:
    inp = tf.constant([[0.5, 0.25], [0.75, 1.0], [1.5, 2.0]])
    g.watch(inp)
    output = tf.nn.embedding_lookup(inp, [0, 2])
print(g.jacobian(output, inp, experimental_use_pfor=True).numpy().sum(axis=(0, 1)))
print(g.jacobian(output, inp, experimental_use_pfor=False).numpy().sum(axis=(0, 1)))
