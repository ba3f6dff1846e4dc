# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testOutput + testReturnSameThing + testSameObjectForMultipleArguments +
# testMultiValueConvertToTensor + testMultiValuePreservesIfNotDiffedAgainst (conv2d).
# Changes: gradients_function / implicit_grad written as tapes; asserts become prints.
import tensorflow as tf

x = tf.constant([0.0, 1.0, 2.0])
with tf.GradientTape() as t:
    t.watch(x)
    outputs = (x + 2, x * x)
print(t.gradient(outputs, x))

x = tf.constant(1.0)
with tf.GradientTape() as t:
    t.watch(x)
    outputs = (x, 2 * x)
print(t.gradient(outputs, x))

for value in (tf.constant(1.0), tf.constant([[1.0]]), tf.Variable(1.0)):
    with tf.GradientTape() as t:
        t.watch(value)
        y = tf.multiply(value, value)
    dx, dy = t.gradient(y, [value, value])
    print(dx.numpy(), dy.numpy())

v = tf.Variable(initial_value=tf.constant([1.0]), name="x")
with tf.GradientTape() as t:
    a = tf.add(v.value(), 1.0)
    b = tf.stack([a, a], axis=0)
    loss = tf.reduce_mean(b)
print(t.gradient(loss, v))

image = tf.constant([[[[1.0]]]])
kernel = tf.constant([[[[2.0]]]])
with tf.GradientTape() as t:
    t.watch(image)
    out = tf.nn.conv2d(image, kernel, [1, 1, 1, 1], "SAME")
print(t.gradient(out, image))
