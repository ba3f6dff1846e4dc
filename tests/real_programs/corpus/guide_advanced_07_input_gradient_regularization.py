# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cells tH3ZFuUfDLrR, E6yOFsjEDR9u, 123QMq6PqK_d ("Input gradient regularization").
# Changes: tf.keras.layers.Dense(10, activation=tf.nn.relu) is written out as variables (Keras is
# out of scope); seeded random inputs, so only shapes and seed-independent facts are printed.
import tensorflow as tf

tf.random.set_seed(1)
x = tf.random.normal([7, 5])
kernel = tf.Variable(tf.random.normal([5, 10]))
bias = tf.Variable(tf.zeros([10]))


def layer(inputs):
    return tf.nn.relu(inputs @ kernel + bias)


with tf.GradientTape() as t2:
    with tf.GradientTape(watch_accessed_variables=False) as t1:
        t1.watch(x)
        y = layer(x)
        out = tf.reduce_sum(layer(x) ** 2)
    g1 = t1.gradient(out, x)
    g1_mag = tf.norm(g1)
dg1_mag = t2.gradient(g1_mag, [kernel, bias])
print([var.shape for var in dg1_mag])
print(g1.shape, g1_mag.dtype, g1_mag.shape)
